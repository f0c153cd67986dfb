"""Suggested sites on the constructed district (the maths alone: tests/pure/test_siting.py)."""

import json

import pytest
from django.contrib.gis.geos import Point

from boundaries.models import Division
from facilities.suggestions import coverage_suggest
from gis_portal.core.errors import InvalidParameter
from tests.facilities.conftest import S, offset

pytestmark = pytest.mark.django_db


def test_suggest_on_the_constructed_district(scene, add_facility):
    add_facility("elder_station", *S)  # covers the community at 999 m; 1001 m and 5000 m remain
    result = coverage_suggest(category="elder_station", k=3, district_code="509901")
    assert result["method"] == "mclp" and result["uncovered_points"] == 2
    sites = [f["properties"] for f in result["features"]]
    # They are 6 km apart: each site covers only itself, the larger population first.
    assert [(s["at_code"], s["population_newly_covered"]) for s in sites] == [
        ("509901001002", 2000),
        ("509901001003", 500),
    ]
    assert result["population_newly_covered"] == 2500
    one = coverage_suggest(category="elder_station", k=1, district_code="509901", weight="elderly")
    assert [f["properties"]["elderly_newly_covered"] for f in one["features"]] == [500]


def test_suggest_presence_takes_the_divisions_without_one(scene):
    result = coverage_suggest(category="funeral_home", k=2, district_code="509901")
    assert result["method"] == "presence"
    assert [f["properties"]["at_code"] for f in result["features"]] == ["509901"]


def test_suggest_on_a_real_district_is_no_worse_than_greedy():
    result = coverage_suggest(category="elder_station", k=5, district_code="500241")
    newly = [f["properties"]["population_newly_covered"] for f in result["features"]]
    assert newly and all(n > 0 for n in newly)
    assert sum(newly) <= result["uncovered_population"]


def test_capacity_rule_has_no_sites():
    with pytest.raises(InvalidParameter):
        coverage_suggest(category="elder_institution", k=3)


def test_a_village_between_two_gaps_is_the_one_site_that_covers_both(scene):
    """Candidates are every community, village and township seat, not only the uncovered points:
    a village 900 m from two communities 1,800 m apart covers both (within 1,000 m), which no site
    at either community does."""
    b = (scene.b.point.x, scene.b.point.y)
    lon, lat = offset(b, azimuth=90, metres=1800)
    Division.objects.create(
        code="509901001004", name="戊社区居民委员会", level="village", kind="community", parent=scene.street,
        cluster_id="urban_core", point=Point(lon, lat, srid=4326), population=700, elderly_population=150,
    )  # fmt: skip
    lon, lat = offset(b, azimuth=90, metres=900)
    Division.objects.create(
        code="509901001005", name="己村村民委员会", level="village", kind="village", parent=scene.street,
        cluster_id="urban_core", point=Point(lon, lat, srid=4326), population=50, elderly_population=10,
    )  # fmt: skip
    (site,) = coverage_suggest(category="elder_station", k=1, district_code="509901")["features"]
    props = site["properties"]
    assert (props["at_code"], props["at_kind"], props["newly_covered_points"]) == ("509901001005", "village", 2)
    assert props["population_newly_covered"] == 2000 + 700


def test_the_api_streams_progress_then_the_result(scene, add_facility, api):
    add_facility("elder_station", *S)
    query = {"category": "elder_station", "district": "509901", "k": 3}
    answer = api.get("/api/v1/coverage/suggest", query | {"stream": "true"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/x-ndjson")
    steps = [json.loads(line) for line in b"".join(answer.streaming_content).decode().splitlines()]
    assert [s["stage"] for s in steps] == ["demand", "candidates", "solving", "done"]
    assert [s["progress"] for s in steps] == sorted(s["progress"] for s in steps) and steps[-1]["progress"] == 1.0
    assert steps[-1]["result"] == api.get("/api/v1/coverage/suggest", query).json()
    refused = api.get("/api/v1/coverage/suggest", {"category": "elder_institution", "k": 3, "stream": "true"})
    assert refused.status_code == 400 and "capacity" in refused.json()["error"]["message"]  # before any line
