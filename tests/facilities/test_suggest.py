"""Suggested sites: the MCLP never covers less than greedy and every site adds coverage."""

import numpy as np
import pytest

from facilities.selectors import coverage_suggest
from facilities.siting import SitingProblem, sites_greedy, sites_mclp
from gis_portal.core.errors import InvalidParameter
from tests.facilities.conftest import S

pytestmark = pytest.mark.django_db


def trap() -> SitingProblem:
    """Greedy's trap: X covers 4 of 6 equal points, Y and Z 3 each but together all 6."""
    covers = np.zeros((3, 6), dtype=bool)
    covers[0, [0, 1, 2, 3]] = True  # X
    covers[1, [0, 1, 4]] = True  # Y
    covers[2, [2, 3, 5]] = True  # Z
    return SitingProblem(weights=np.ones(6), covers=covers)


def assert_each_adds(problem: SitingProblem, chosen: list[int]) -> None:
    for i in range(1, len(chosen) + 1):
        assert problem.coverage_of(chosen[:i]) > problem.coverage_of(chosen[: i - 1])


def test_mclp_beats_greedy_in_its_trap():
    problem = trap()
    greedy = sites_greedy(problem, k=2)
    assert greedy[0] == 0 and problem.coverage_of(greedy) == 5
    chosen = sites_mclp(problem, k=2)
    assert sorted(chosen) == [1, 2] and problem.coverage_of(chosen) == 6
    assert_each_adds(problem, chosen)


@pytest.mark.parametrize("seed", range(6))
def test_mclp_never_worse_than_greedy_on_random_problems(seed):
    rng = np.random.default_rng(seed)
    n_cand, n_dem = 40, 120
    covers = rng.uniform(size=(n_cand, n_dem)) < 0.06
    problem = SitingProblem(weights=rng.integers(1, 100, n_dem).astype(float), covers=covers)
    for k in (1, 3, 6):
        greedy, chosen = sites_greedy(problem, k=k), sites_mclp(problem, k=k)
        assert len(chosen) <= k
        assert problem.coverage_of(chosen) >= problem.coverage_of(greedy)
        assert_each_adds(problem, chosen)


def test_fewer_sites_than_asked_when_nothing_more_to_cover():
    problem = trap()
    chosen = sites_mclp(problem, k=3)
    assert problem.coverage_of(chosen) == 6 and len(chosen) == 2


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
