from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    """Survey teams' field uploads: parsing, validation against the official line, review. The
    official record changes only through the boundaries services."""

    name = "boundaries.surveys"
    label = "surveys"
    verbose_name = _("Survey uploads")

    def ready(self):
        from boundaries.signals import boundary_lines_replaced
        from boundaries.surveys.services import survey_uploads_lines_replaced

        boundary_lines_replaced.connect(survey_uploads_lines_replaced, dispatch_uid="surveys_lines_replaced")
