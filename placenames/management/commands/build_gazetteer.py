"""``manage.py build_gazetteer``: fill the gazetteer from the divisions (``gazetteer_build``)."""

from gis_portal.core.commands import ServiceCommand
from placenames.services import gazetteer_build


class Command(ServiceCommand):
    help = "Fill the standard place-name gazetteer from the divisions (idempotent)."

    def run(self, **options):
        return gazetteer_build()
