"""Site selection as pure maths: the MCLP never covers less than greedy, beats it in greedy's trap,
and every listed site adds coverage. No database."""

import numpy as np
import pytest

from facilities.siting import SitingProblem, sites_greedy, sites_mclp


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
