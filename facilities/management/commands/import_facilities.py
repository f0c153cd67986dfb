from pathlib import Path

from facilities.services import facilities_import
from gis_portal.core.commands import ServiceCommand
from gis_portal.core.geo import SOURCE_DATUMS


class Command(ServiceCommand):
    help = (
        "Import facilities from a CSV (name, category, lon, lat, ...), GeoJSON or GeoPackage file; "
        "all or nothing: bad records are reported with their line and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--datum", choices=SOURCE_DATUMS, default="WGS84", help="datum of lon/lat (CSV/GeoJSON)")
        parser.add_argument("--source", default="", help="source label (default: the file name)")
        parser.add_argument("--replace", action="store_true", help="first delete what came from the same source")

    def run(self, **options):
        return facilities_import(
            path=options["path"], datum=options["datum"], source=options["source"], replace=options["replace"]
        )
