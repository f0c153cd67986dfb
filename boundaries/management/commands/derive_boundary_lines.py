"""``manage.py derive_boundary_lines``: derive the boundary lines and tri-junctions from the division
polygons and the neighbouring provinces (``boundaries.lines.boundary_lines_derive``)."""

from pathlib import Path

from django.conf import settings

from boundaries.lines import boundary_lines_derive
from gis_portal.core.commands import ServiceCommand
from gis_portal.core.geo import SOURCE_DATUMS

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(ServiceCommand):
    help = (
        "Derive the provincial, county and township boundary lines and their tri-junctions from the "
        "division polygons and the neighbouring provinces. Atomic and idempotent (upsert by line code)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--neighbours", type=Path, default=FIXTURES / "chongqing" / "neighbours.gcj02.geojson")
        parser.add_argument("--datum", choices=SOURCE_DATUMS, default="GCJ-02", help="datum of the provinces")

    def run(self, **options):
        return boundary_lines_derive(neighbours_geojson=options["neighbours"], datum=options["datum"])
