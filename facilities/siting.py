"""Site selection as pure maths: a maximal covering location problem (Church & ReVelle) over a
boolean coverage matrix, solved exactly by spopt's ``MCLP`` with CBC, with a greedy baseline that it
can never do worse than. No database: ``facilities.suggestions.coverage_suggest`` builds the matrix in
SQL and calls these."""

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 300


@dataclass
class SitingProblem:
    """Demand ``weights`` (n) and a boolean coverage matrix ``covers`` (candidates x demand)."""

    weights: np.ndarray
    covers: np.ndarray

    def coverage_of(self, chosen: list[int]) -> float:
        if not chosen:
            return 0.0
        return float(self.weights[self.covers[chosen].any(axis=0)].sum())


def sites_greedy(problem: SitingProblem, *, k: int) -> list[int]:
    """The greedy baseline: repeatedly take the candidate that newly covers the most weight;
    stop early when no candidate adds any."""
    covered = np.zeros(problem.covers.shape[1], dtype=bool)
    chosen: list[int] = []
    for _ in range(k):
        gains = (problem.covers & ~covered) @ problem.weights
        best = int(np.argmax(gains)) if len(gains) else 0
        if not len(gains) or gains[best] <= 0:
            break
        chosen.append(best)
        covered |= problem.covers[best]
    return chosen


def sites_mclp(problem: SitingProblem, *, k: int, time_limit_s: int = 20) -> list[int]:
    """Maximal covering location problem solved by spopt's ``MCLP`` with CBC, over at most
    MAX_CANDIDATES candidates (the best by coverable weight, plus greedy's picks so the optimum can
    never be worse than greedy). If CBC fails or stops at its time limit with a worse answer than
    greedy, greedy's answer is returned (and logged). Sites that add nothing are dropped."""
    import pulp
    from spopt.locate import MCLP

    greedy = sites_greedy(problem, k=k)
    if problem.covers.shape[0] == 0 or not greedy:
        return []
    potential = problem.covers @ problem.weights
    keep = set(np.argsort(-potential, kind="stable")[:MAX_CANDIDATES].tolist()) | set(greedy)
    keep = sorted(i for i in keep if potential[i] > 0)
    sub = problem.covers[keep]
    clients = np.flatnonzero(sub.any(axis=0))
    sub = sub[:, clients]
    weights = problem.weights[clients].astype(float)
    cost = np.where(sub.T, 0.0, 2.0)  # clients x candidates; covered iff cost <= 1
    model = MCLP.from_cost_matrix(cost, weights, service_radius=1.0, p_facilities=min(k, len(keep)))
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s), results=False)
        picked = [keep[j] for j, var in enumerate(model.fac_vars) if var.value() and var.value() > 0.5]
    except (pulp.PulpError, ValueError, RuntimeError, OSError):
        logger.exception("CBC failed on a covering problem (%d candidates, k=%d); using greedy", len(keep), k)
        picked = []
    if problem.coverage_of(picked) < problem.coverage_of(greedy):
        if picked:
            logger.warning("CBC's answer (time limit %d s) is worse than greedy's; using greedy", time_limit_s)
        picked = greedy
    return sites_order_by_gain(problem, picked)


def sites_order_by_gain(problem: SitingProblem, chosen: list[int]) -> list[int]:
    """Drop chosen sites the others make redundant, then order the rest by what each newly covers
    given those before it (so each listed site adds coverage)."""
    chosen = list(chosen)
    total = problem.coverage_of(chosen)
    for site in sorted(chosen, key=lambda c: problem.coverage_of([c])):
        rest = [c for c in chosen if c != site]
        if problem.coverage_of(rest) >= total:
            chosen = rest
    sub = SitingProblem(weights=problem.weights, covers=problem.covers[chosen])
    order = sites_greedy(sub, k=len(chosen))
    return [chosen[i] for i in order]
