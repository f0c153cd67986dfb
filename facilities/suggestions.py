"""Suggested sites for new facilities: the demand, the candidate sites (communities, villages and
township seats) and which candidate covers which demand, read in SQL on geography, then the
optimisation in Python (``facilities.siting``), stage by stage so that a long run can show progress."""

from collections.abc import Iterator

import numpy as np

from boundaries.models import Division
from facilities.models import CoverageStandard
from facilities.selectors import (
    NO_JIT,
    cluster_or_none,
    coverage_rule,
    coverage_standard_get,
    coverage_units,
    district_id_or_none,
)
from facilities.siting import SitingProblem, sites_greedy, sites_mclp
from gis_portal.core import sql
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.formats import geojson_collection, geojson_feature

SUGGEST_DEMAND_SQL = """
WITH {units}
SELECT u.id, dv.code, dv.name, u.kind, u.population, u.elderly, ST_X(u.geom) AS lon, ST_Y(u.geom) AS lat,
       dist.code AS district_code, dist.name AS district
  FROM units u JOIN {division} dv ON dv.id = u.id LEFT JOIN {division} dist ON dist.id = u.district_id
 WHERE NOT u.covered AND u.geom IS NOT NULL ORDER BY dv.code
"""
# Pairs (candidate c, demand d) with c within d's radius. Candidates are the places a site can go:
# every community, village and township seat of the area (not only the uncovered points). A
# bounding-box test in degrees (generous: 1 degree of longitude is at least 80 km here) prunes
# before the exact geodesic one, on the divisions' point index.
SUGGEST_PAIRS_SQL = """
WITH d AS (SELECT id, point, CASE WHEN kind = 'community' THEN %(ru)s ELSE %(rr)s END::float AS r
             FROM {division} WHERE id = ANY(%(ids)s))
SELECT c.id AS candidate, d.id AS demand
  FROM d JOIN {division} c ON c.point && ST_Expand(d.point, d.r / 80000.0)
                          AND ST_DWithin(c.point::geography, d.point::geography, d.r)
 WHERE c.level IN ('village', 'township')
   AND (%(cluster)s::text IS NULL OR c.cluster_id = %(cluster)s)
   AND (%(district_id)s::bigint IS NULL
        OR (c.level = 'township' AND c.parent_id = %(district_id)s)
        OR (c.level = 'village' AND c.parent_id IN (SELECT id FROM {division} WHERE parent_id = %(district_id)s)))
"""
SUGGEST_CANDIDATES_SQL = """
SELECT c.id, c.code, c.name, CASE WHEN c.level = 'township' THEN 'township_seat' ELSE c.kind END AS kind,
       ST_X(c.point) AS lon, ST_Y(c.point) AS lat, dist.code AS district_code, dist.name AS district
  FROM {division} c
  LEFT JOIN {division} t ON t.id = c.parent_id AND c.level = 'village'
  LEFT JOIN {division} dist ON dist.id = COALESCE(t.parent_id, c.parent_id)
 WHERE c.id = ANY(%(ids)s) ORDER BY c.code
"""


def coverage_suggest_steps(
    *,
    category: str,
    k: int,
    district_code: str | None = None,
    cluster: str | None = None,
    weight: str = "population",
) -> Iterator[dict]:
    """Up to ``k`` new sites that cover the most uncovered ``weight`` (population or elderly),
    existing open facilities kept. Radius rules: demand is the uncovered demand points (of the
    district or cluster, if given; else the municipality), candidates every community, village and
    township seat of the same area (``at_kind``); a candidate covers a demand point within the
    point's radius (geodesic metres, pairs found with ST_DWithin on geography); solved as an MCLP.
    Presence rules: each site serves one division, so the optimum is the k uncovered divisions
    with most weight, each at its representative point. Returns a GeoJSON FeatureCollection of
    the sites with what each newly covers (counted in order, without double counting).

    The arguments are checked at once (a bad one raises here); the returned generator then works
    in steps, yielding ``{"stage", "progress"}`` as it goes (for a page to show) and last
    ``{"stage": "done", "progress": 1.0, "result": <the FeatureCollection>}``."""
    if weight not in ("population", "elderly"):
        raise InvalidParameter("weight must be population or elderly")
    standard = coverage_standard_get(category=category)
    if standard.kind == CoverageStandard.Kind.CAPACITY:
        raise InvalidParameter(f"{category} has a capacity rule: sites do not apply, add beds")
    units, params = coverage_units(
        standard, district_id=district_id_or_none(district_code), cluster=cluster_or_none(cluster)
    )
    return _suggest_steps(standard, units=units, params=params, k=k, weight=weight)


def coverage_suggest(**kwargs) -> dict:
    """Suggested sites (see ``coverage_suggest_steps``): the result alone."""
    *_, done = coverage_suggest_steps(**kwargs)
    return done["result"]


def _suggest_steps(standard: CoverageStandard, *, units, params: dict, k: int, weight: str) -> Iterator[dict]:
    category = standard.category
    yield {"stage": "demand", "progress": 0.05}
    demand = sql.rows(sql.compose(SUGGEST_DEMAND_SQL, units=units, division=Division), params, local_settings=NO_JIT)
    ids = [row["id"] for row in demand]
    yield {"stage": "candidates", "progress": 0.2, "demand_points": len(ids)}
    if standard.kind == CoverageStandard.Kind.RADIUS and demand:
        pairs = [
            (p["candidate"], p["demand"])
            for p in sql.rows(
                sql.compose(SUGGEST_PAIRS_SQL, division=Division),
                {
                    "ids": ids,
                    "ru": standard.radius_urban_m,
                    "rr": standard.radius_rural_m,
                    "district_id": params["district_id"],
                    "cluster": params["cluster"],
                },
            )
        ]
        places = sql.rows(
            sql.compose(SUGGEST_CANDIDATES_SQL, division=Division), {"ids": sorted({c for c, _ in pairs})}
        )
    else:  # presence: a site serves its own division
        pairs = [(i, i) for i in ids]
        places = demand
    index = {unit_id: i for i, unit_id in enumerate(ids)}
    place_index = {place["id"]: i for i, place in enumerate(places)}
    covers = np.zeros((len(places), len(ids)), dtype=bool)
    for a, b in pairs:
        covers[place_index[a], index[b]] = True
    weight_column = "population" if weight == "population" else "elderly"
    weights = np.array([row[weight_column] for row in demand], dtype=float)
    problem = SitingProblem(weights=weights, covers=covers)
    yield {"stage": "solving", "progress": 0.4, "demand_points": len(ids), "candidates": len(places)}
    chosen = sites_mclp(problem, k=k) if standard.kind == CoverageStandard.Kind.RADIUS else sites_greedy(problem, k=k)
    covered = np.zeros(len(ids), dtype=bool)
    features = []
    for rank, c in enumerate(chosen, start=1):
        new = covers[c] & ~covered
        covered |= covers[c]
        row = places[c]
        newly = [demand[i] for i in np.flatnonzero(new)]
        features.append(
            geojson_feature(
                geometry={"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]},
                properties={
                    "rank": rank,
                    "at_code": row["code"],
                    "at_name": row["name"],
                    "at_kind": row["kind"],
                    "district_code": row["district_code"],
                    "district": row["district"],
                    "newly_covered_points": len(newly),
                    "population_newly_covered": int(sum(d["population"] for d in newly)),
                    "elderly_newly_covered": int(sum(d["elderly"] for d in newly)),
                },
            )
        )
    result = geojson_collection(
        features,
        category=category,
        k=k,
        weight=weight,
        method="mclp" if standard.kind == CoverageStandard.Kind.RADIUS else "presence",
        rule=coverage_rule(standard),
        uncovered_points=len(ids),
        uncovered_population=int(sum(row["population"] for row in demand)),
        population_newly_covered=int(sum(f["properties"]["population_newly_covered"] for f in features)),
    )
    yield {"stage": "done", "progress": 1.0, "result": result}
