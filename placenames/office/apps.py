from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficeConfig(AppConfig):
    """The place-name office's own work: naming applications checked against the rules, the public
    notice and the decision, place-name signs and their checks, heritage names, the printed register."""

    name = "placenames.office"
    label = "office"
    verbose_name = _("Place-name office")

    def ready(self):
        from boundaries.signals import division_split, divisions_replaced
        from placenames.office.services import applications_division_split, applications_divisions_replaced

        divisions_replaced.connect(applications_divisions_replaced, dispatch_uid="office_divisions_replaced")
        division_split.connect(applications_division_split, dispatch_uid="office_division_split")
