from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The ground every app stands on (errors, API glue, CRS and region constants, SQL helpers,
    roles). It imports no app of the project."""

    name = "gis_portal.core"
    label = "core"
    verbose_name = "Chongqing civil-affairs GIS portal: common ground"

    def ready(self) -> None:
        from gis_portal.core.roles import roles_ensure

        post_migrate.connect(roles_ensure, dispatch_uid="gis_portal.core.roles_ensure")
