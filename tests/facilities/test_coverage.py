"""Coverage, gaps, capacity and roll-ups on the constructed district (see conftest) and on the
loaded data."""

import pytest
from django.contrib.gis.geos import Point

from facilities.models import CoverageStandard
from facilities.selectors import coverage_by_division, coverage_gaps, coverage_points
from facilities.services import facility_update
from gis_portal.core.errors import InvalidParameter, NotFound
from tests.facilities.conftest import S, offset

pytestmark = pytest.mark.django_db

SUMMED = ("demand_points", "covered", "population", "population_covered", "elderly_population", "elderly_covered")


def district_row(category: str, **kwargs) -> dict:
    (row,) = coverage_by_division(category=category, group_by="district", district_code="509901", **kwargs)["results"]
    assert row["code"] == "509901"
    return row


def test_radius_999_m_is_covered_and_1001_m_is_not(scene, add_facility):
    row = district_row("elder_station")
    assert (row["demand_points"], row["covered"]) == (3, 0)  # communities only: the village is not demand
    add_facility("elder_station", *S)
    row = district_row("elder_station")
    assert (row["demand_points"], row["covered"]) == (3, 1)
    assert row["covered_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert (row["population"], row["population_covered"]) == (3500, 1000)
    assert (row["elderly_population"], row["elderly_covered"]) == (800, 200)
    assert row["rule"] == "radius: communities within 1000 m"


def test_planned_and_closed_facilities_cover_nothing(scene, add_facility):
    add_facility("elder_station", *S, status="planned")
    add_facility("elder_station", *S, status="closed")
    assert district_row("elder_station")["covered"] == 0


def test_radius_rule_edited_in_the_data_applies(scene, add_facility):
    add_facility("elder_station", *S)
    CoverageStandard.objects.filter(category="elder_station", kind="radius").update(radius_urban_m=1002)
    assert district_row("elder_station")["covered"] == 2  # 999 m and 1001 m; not 5000 m


def test_gaps_worst_first_with_distances(scene, add_facility):
    add_facility("elder_station", *S)
    gaps = coverage_gaps(category="elder_station", district_code="509901")
    assert gaps["total_uncovered"] == 2
    first, second = (f["properties"] for f in gaps["features"])
    assert (first["code"], second["code"]) == ("509901001002", "509901001003")  # 500 aged 60+ before 100
    assert first["nearest_facility_m"] == pytest.approx(1001, abs=0.2)
    assert second["nearest_facility_m"] == pytest.approx(5000, abs=0.2)
    lon, lat = gaps["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(offset(S, azimuth=90, metres=1001), abs=1e-6)


def test_every_point_with_its_nearest_distance(scene, add_facility):
    add_facility("elder_station", *S)
    result = coverage_points(category="elder_station", district_code="509901")
    assert result["total"] == 3
    rows = [
        (f["properties"]["code"], f["properties"]["covered"], f["properties"]["nearest_facility_m"])
        for f in result["features"]
    ]
    assert [r[:2] for r in rows] == [("509901001002", False), ("509901001003", False), ("509901001001", True)]
    assert [r[2] for r in rows] == pytest.approx([1001, 5000, 999], abs=0.2)


def test_presence_counts_a_division_with_and_without_a_facility(scene, add_facility):
    # Cemeteries: one per rural township (town/township); the street is not a demand unit.
    row = district_row("cemetery")
    assert (row["demand_points"], row["covered"], row["facilities"]) == (1, 0, 0)
    add_facility("cemetery", 105.05, 27.7)  # in the street: does not count for the town
    assert district_row("cemetery")["covered"] == 0
    cemetery = add_facility("cemetery", 105.15, 27.72)
    assert cemetery.division_id == scene.town.id and cemetery.district_id == scene.district.id
    row = district_row("cemetery")
    assert (row["covered"], row["population_covered"], row["elderly_covered"]) == (1, 300, 90)
    assert coverage_gaps(category="cemetery", district_code="509901")["total_uncovered"] == 0


def test_presence_per_district(scene, add_facility):
    assert district_row("funeral_home")["covered"] == 0
    add_facility("funeral_home", 105.19, 27.61)
    row = district_row("funeral_home")
    assert (row["demand_points"], row["covered"], row["population"]) == (1, 1, 3800)


def test_presence_per_village_uses_the_nearest_village(scene, add_facility):
    lon, lat = offset((scene.a.point.x, scene.a.point.y), azimuth=45, metres=30)
    centre = add_facility("service_centre", lon, lat)
    assert centre.village_id == scene.a.id
    row = district_row("service_centre")
    assert (row["demand_points"], row["covered"], row["population_covered"]) == (4, 1, 1000)


def test_capacity_ratio(scene, add_facility):
    # 890 aged 60+ in the district: 40 per 1,000 needs 35.6 beds.
    add_facility("elder_institution", 105.05, 27.7, beds=35)
    row = district_row("elder_institution")
    assert (row["demand_points"], row["covered"], row["beds"]) == (1, 0, 35)
    assert row["beds_required"] == pytest.approx(35.6)
    add_facility("elder_institution", 105.15, 27.7, beds=1)
    row = district_row("elder_institution")
    assert (row["covered"], row["beds"], row["beds_per_1000_elderly"]) == (1, 36, pytest.approx(40.4, abs=0.05))
    add_facility("elder_institution", 105.15, 27.7, beds=500, status="planned")
    assert district_row("elder_institution")["beds"] == 36


def test_facility_moved_is_derived_again(scene, add_facility):
    facility = add_facility("cemetery", 105.05, 27.7)
    assert facility.division_id == scene.street.id
    facility = facility_update(facility=facility, point=Point(*offset((105.15, 27.7), azimuth=0, metres=10), srid=4326))
    assert facility.division_id == scene.town.id and facility.village_id == scene.v.id


@pytest.mark.parametrize("category", ["elder_station", "elder_centre", "cemetery", "elder_institution"])
def test_rollups_add_up(category):
    groups = ("district", "cluster", "municipality")
    by = {g: coverage_by_division(category=category, group_by=g)["results"] for g in groups}
    assert len(by["district"]) == 38 and len(by["cluster"]) == 3 and len(by["municipality"]) == 1
    for key in SUMMED:
        total = by["municipality"][0][key]
        assert sum(r[key] for r in by["district"]) == total, key
        assert sum(r[key] for r in by["cluster"]) == total, key
        for cluster in by["cluster"]:
            assert sum(r[key] for r in by["district"] if r["cluster"] == cluster["code"]) == cluster[key]
    assert by["municipality"][0]["demand_points"] > 0


def test_generated_facilities_leave_real_gaps():
    station = coverage_by_division(category="elder_station", group_by="municipality")["results"][0]
    assert station["demand_points"] == 3324
    assert 0.6 < station["covered_share"] < 0.95  # most, not all
    funeral = coverage_by_division(category="funeral_home", group_by="district")["results"]
    assert 1 <= sum(1 for r in funeral if r["covered"] == 0) <= 5  # a few districts without one
    cemetery = coverage_by_division(category="cemetery", group_by="municipality")["results"][0]
    assert cemetery["demand_points"] == 625 + 161  # towns and townships
    assert 0.5 < cemetery["covered_share"] < 0.9
    capacity = coverage_by_division(category="elder_institution", group_by="district")["results"]
    assert 0 < sum(1 for r in capacity if r["covered"]) < 38


def test_bad_arguments():
    with pytest.raises(InvalidParameter):
        coverage_by_division(category="nope")
    with pytest.raises(InvalidParameter):
        coverage_by_division(category="cemetery", group_by="planet")
    with pytest.raises(InvalidParameter):
        coverage_gaps(category="cemetery", district_code="999999")
    with pytest.raises(NotFound):
        coverage_by_division(category="columbarium")  # no standard
