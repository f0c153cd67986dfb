"""The maintained nearest-facility table stays equal to a from-scratch computation after every
kind of write: creating, moving and closing facilities through the services, an import (and a
re-import with replace), a standard changed, a division saved. "From scratch" is computed here
independently of the table's own SQL: coverage as "an open facility within the radius" (EXISTS
ST_DWithin on the spheroid, the definition before the table existed) and, for each row, no open
facility nearer than the stored distance."""

import pytest
from django.contrib.gis.geos import Point

from boundaries.models import Division
from facilities.models import CoverageStandard, Facility, NearestFacility
from facilities.selectors import coverage_by_division
from facilities.services import (
    coverage_standard_save,
    facilities_import,
    facility_close,
    facility_create,
    facility_update,
)
from gis_portal.core import sql
from tests.facilities.conftest import S

pytestmark = pytest.mark.django_db

CATEGORY = "elder_station"

# Per district: communities, and those with an open station within the radius (spheroid metres).
SCRATCH_SQL = """
SELECT t.parent_id AS district_id, count(*) AS points,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM facilities_facility f
            WHERE f.category = %(category)s AND f.status = 'open'
              AND ST_DWithin(f.point::geography, d.point::geography, %(radius)s))) AS covered
  FROM boundaries_division d JOIN boundaries_division t ON t.id = d.parent_id
 WHERE d.level = 'village' AND d.kind = 'community' AND d.point IS NOT NULL
 GROUP BY 1
"""

# Rows that are wrong: a nearer open facility exists, the stored facility is not open or not at
# the stored distance, or there is no facility stored though one is open.
WRONG_ROWS_SQL = """
SELECT n.demand_id, n.facility_id, n.distance_m FROM facilities_nearestfacility n
 WHERE n.category = %(category)s AND (
       (n.distance_m IS NULL AND EXISTS (
            SELECT 1 FROM facilities_facility f WHERE f.category = %(category)s AND f.status = 'open'))
    OR (n.distance_m IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM facilities_facility f
             WHERE f.id = n.facility_id AND f.category = %(category)s AND f.status = 'open'
               AND abs(ST_Distance(f.point::geography, n.point::geography) - n.distance_m) < 1e-6))
    OR EXISTS (SELECT 1 FROM facilities_facility f
                WHERE f.category = %(category)s AND f.status = 'open'
                  AND ST_DWithin(f.point::geography, n.point::geography, n.distance_m - 1e-6)
                  AND ST_Distance(f.point::geography, n.point::geography) < n.distance_m - 1e-6))
"""

# Rows whose demand attributes differ from the division's now, and points without a row.
STALE_ROWS_SQL = """
SELECT d.id FROM boundaries_division d JOIN boundaries_division t ON t.id = d.parent_id
  LEFT JOIN facilities_nearestfacility n ON n.demand_id = d.id AND n.category = %(category)s
 WHERE d.level = 'village' AND d.point IS NOT NULL
   AND (n.id IS NULL OR NOT n.point = d.point OR n.kind <> d.kind
        OR n.district_id IS DISTINCT FROM t.parent_id OR n.cluster_id IS DISTINCT FROM d.cluster_id
        OR n.population <> COALESCE(d.population, 0) OR n.elderly <> COALESCE(d.elderly_population, 0))
"""


def assert_consistent(category: str = CATEGORY) -> None:
    params = {"category": category}
    assert sql.rows(sql.SQL(WRONG_ROWS_SQL), params) == []
    assert sql.rows(sql.SQL(STALE_ROWS_SQL), params) == []
    points = Division.objects.filter(level="village", point__isnull=False).count()
    assert NearestFacility.objects.filter(category=category).count() == points
    if category != CATEGORY:
        return
    radius = CoverageStandard.objects.get(category=category, kind="radius", active=True).radius_urban_m
    scratch = {r["district_id"]: r for r in sql.rows(sql.SQL(SCRATCH_SQL), params | {"radius": radius})}
    districts = {d.code: d.id for d in Division.objects.filter(level="district")}
    for row in coverage_by_division(category=category, group_by="district")["results"]:
        expected = scratch.get(districts[row["code"]], {"points": 0, "covered": 0})
        assert (row["demand_points"], row["covered"]) == (expected["points"], expected["covered"]), row["code"]


def uncovered_community() -> Division:
    rows = NearestFacility.objects.filter(category=CATEGORY, kind="community", distance_m__gt=3000)
    return Division.objects.get(id=rows.order_by("-distance_m").first().demand_id)


def test_the_loaded_table_is_consistent():
    assert_consistent()


def test_create_move_close_keep_it_consistent():
    target = uncovered_community()
    before = coverage_by_division(category=CATEGORY, group_by="municipality")["results"][0]["covered"]
    station = facility_create(name="新站", category=CATEGORY, point=Point(target.point.x, target.point.y, srid=4326))
    row = NearestFacility.objects.get(category=CATEGORY, demand_id=target.id)
    assert row.facility_id == station.id and row.distance_m == pytest.approx(0, abs=1e-6)
    assert coverage_by_division(category=CATEGORY, group_by="municipality")["results"][0]["covered"] > before
    assert_consistent()

    # Move a station that is some points' nearest far away, then back near them.
    busy = NearestFacility.objects.filter(category=CATEGORY, facility__isnull=False).values("facility_id").first()
    moved = Facility.objects.get(id=busy["facility_id"])
    home = moved.point.clone()
    facility_update(facility=moved, point=Point(target.point.x + 0.05, target.point.y + 0.05, srid=4326))
    assert_consistent()
    facility_update(facility=moved, point=home)
    assert_consistent()

    facility_close(facility=station)
    row = NearestFacility.objects.get(category=CATEGORY, demand_id=target.id)
    assert row.facility_id != station.id and row.distance_m > 3000
    assert_consistent()
    facility_update(facility=moved, category="elder_centre")  # no longer a station
    assert not NearestFacility.objects.filter(facility_id=moved.id).exists()
    assert_consistent()


def test_import_and_replace_keep_it_consistent(tmp_path):
    target = uncovered_community()
    lon, lat = target.point.x, target.point.y
    path = tmp_path / "stations.csv"
    path.write_text(
        "name,category,lon,lat\n"
        f"导入站一,elder_station,{lon + 0.001:.6f},{lat}\n"
        f"导入站二,elder_station,{lon - 0.002:.6f},{lat + 0.001:.6f}\n",
        encoding="utf-8",
    )
    facilities_import(path=path)
    row = NearestFacility.objects.get(category=CATEGORY, demand_id=target.id)
    assert Facility.objects.get(id=row.facility_id).name == "导入站一" and 80 < row.distance_m < 120
    assert_consistent()
    path.write_text(f"name,category,lon,lat\n导入站三,elder_station,{lon},{lat + 0.01:.6f}\n", encoding="utf-8")
    facilities_import(path=path, replace=True)
    row = NearestFacility.objects.get(category=CATEGORY, demand_id=target.id)
    assert Facility.objects.get(id=row.facility_id).name == "导入站三"
    assert_consistent()


def test_a_new_radius_standard_fills_its_category_and_dropping_it_empties():
    assert not NearestFacility.objects.filter(category="cemetery").exists()
    standard = CoverageStandard(
        category="cemetery", kind="radius", radius_urban_m=5000, radius_rural_m=10000, source="test"
    )
    coverage_standard_save(standard=standard)
    assert_consistent("cemetery")
    rows = coverage_by_division(category="cemetery", kind="radius", group_by="municipality")["results"][0]
    assert rows["demand_points"] == Division.objects.filter(level="village", point__isnull=False).count()
    standard.active = False
    coverage_standard_save(standard=standard)
    assert not NearestFacility.objects.filter(category="cemetery").exists()


def test_a_division_saved_one_by_one_is_followed(scene, add_facility):
    station = add_facility("elder_station", 105.05, 27.65)
    row = NearestFacility.objects.get(category=CATEGORY, demand_id=scene.c.id)
    assert row.facility_id == station.id and row.distance_m == pytest.approx(5000, abs=0.2)
    scene.c.point = Point(105.05, 27.651, srid=4326)  # moved to about 111 m north of the station
    scene.c.population = 700
    scene.c.save()
    row = NearestFacility.objects.get(category=CATEGORY, demand_id=scene.c.id)
    assert row.distance_m == pytest.approx(110.8, abs=0.5) and row.population == 700
    assert_consistent()


def test_a_township_moved_to_another_district_takes_its_villages_rows(scene, add_facility):
    add_facility("elder_station", *S)
    other = Division.objects.create(
        code="509902", name="测试二区", level="district", kind="district", parent=scene.district.parent,
        cluster_id="urban_core",
    )  # fmt: skip
    scene.street.parent = other
    scene.street.save()
    rows = NearestFacility.objects.filter(category=CATEGORY, demand_id__in=[scene.a.id, scene.b.id, scene.c.id])
    assert {r.district_id for r in rows} == {other.id}
    (row,) = coverage_by_division(category=CATEGORY, group_by="district", district_code="509902")["results"]
    assert (row["demand_points"], row["covered"]) == (3, 1)
    assert_consistent()
