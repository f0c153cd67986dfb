from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficeConfig(AppConfig):
    """The place-name office's own work: naming applications checked against the rules, the public
    notice and the decision, place-name signs and their checks, heritage names, the printed register."""

    name = "placenames.office"
    label = "office"
    verbose_name = _("Place-name office")
