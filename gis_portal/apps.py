from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GisPortalConfig(AppConfig):
    name = "gis_portal"
    verbose_name = "Chongqing civil-affairs GIS portal"

    def ready(self) -> None:
        from gis_portal.roles import roles_ensure

        post_migrate.connect(roles_ensure, dispatch_uid="gis_portal.roles_ensure")
