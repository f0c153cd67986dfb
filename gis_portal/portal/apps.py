from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top floor: settings, URLs, the planners' map, vector tiles, accounts and the command
    that loads the Chongqing data across the apps."""

    name = "gis_portal.portal"
    label = "portal"
    verbose_name = "Chongqing civil-affairs GIS portal"
