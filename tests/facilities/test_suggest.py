"""Suggested sites on the constructed district (the maths alone: tests/pure/test_siting.py)."""

import pytest

from facilities.selectors import coverage_suggest
from gis_portal.core.errors import InvalidParameter
from tests.facilities.conftest import S

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
