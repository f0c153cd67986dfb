"""Reads of the facilities: lists for the API and the map, and coverage against the standards
(roll-ups, gaps, every demand point). Suggested sites are ``facilities.suggestions``.

Every spatial answer is computed in SQL on geography (EPSG:4326 points, geodesic metres on the
WGS84 spheroid; ``<->`` on geography orders by sphere distance, then ``ST_Distance`` gives the
spheroid distance). Only the optimisation of suggested sites runs in Python (``facilities.siting``),
on a coverage matrix that SQL built.
"""

import json
from collections.abc import Iterator

from django.db.models import F, QuerySet
from django.db.models.functions import Round

from boundaries.models import Cluster, Division
from boundaries.selectors import cluster_check, district_by_code
from facilities.models import CoverageStandard, Facility, NearestFacility
from gis_portal.core import sql
from gis_portal.core.errors import InvalidData, InvalidParameter, NotFound
from gis_portal.core.formats import geojson_collection
from gis_portal.core.functions import X, Y

GROUP_BYS = ("district", "cluster", "municipality")
OPEN = Facility.Status.OPEN
# The analysis queries' cost estimate (a correlated index probe per demand point) makes PostgreSQL
# JIT-compile them, which costs more (0.2-0.8 s) than the queries themselves.
# Nor do parallel workers pay here: starting them costs more than the few thousand rows they'd share.
# A list of all the gaps sorts tens of thousands of rows: in memory, not on disk.
NO_JIT = {"jit": "off", "max_parallel_workers_per_gather": "0", "work_mem": "32MB"}


def facility_list() -> QuerySet[Facility]:
    """All facilities with the codes and names of their derived township, district and village
    annotated (one query that reads no polygon: the divisions' geometry is not sent)."""
    return Facility.objects.annotate(
        township_code=F("division__code"),
        township_name=F("division__name"),
        district_code=F("district__code"),
        district_name=F("district__name"),
        village_code=F("village__code"),
    ).order_by("id")


FACILITY_EXPORT_FIELDS = [
    "id", "name", "category", "operator", "beds", "status", "address", "opening_date", "township_code",
    "township_name", "district_code", "district_name", "village_code", "is_synthetic", "source", "lon", "lat",
]  # fmt: skip


def facility_export_rows(facilities: QuerySet[Facility]) -> Iterator[dict]:
    """Facilities as flat rows (lon/lat WGS84), read from the database in chunks, for a CSV export."""
    rows = facilities.annotate(lon=Round(X("point"), 6), lat=Round(Y("point"), 6)).values(*FACILITY_EXPORT_FIELDS)
    return rows.iterator(chunk_size=2000)


def coverage_standard_list() -> QuerySet[CoverageStandard]:
    return CoverageStandard.objects.filter(active=True).order_by("category", "kind")


def coverage_standard_get(*, category: str, kind: str | None = None) -> CoverageStandard:
    """The active standard of a category (a radius or presence rule unless ``kind`` says)."""
    if category not in Facility.Category.values:
        raise InvalidParameter(f"category {category!r} is not one of {', '.join(Facility.Category.values)}")
    standards = CoverageStandard.objects.filter(category=category, active=True)
    if kind:
        standards = standards.filter(kind=kind)
    else:
        standards = standards.exclude(kind=CoverageStandard.Kind.CAPACITY).order_by("kind")
    standard = standards.first() or (
        None if kind else CoverageStandard.objects.filter(category=category, active=True).first()
    )
    if standard is None:
        raise NotFound(f"no active coverage standard for {category}" + (f" of kind {kind}" if kind else ""))
    return standard


# --- the demand units of a standard -------------------------------------------------------------

# The nearest open facility of the category to a demand point ``{p}``: the 5 nearest by sphere
# distance (geography KNN on the category's partial index), then the least spheroid distance among
# them (ties: the lower id). Sphere and spheroid distances differ by well under 1%, so the spheroid's
# nearest is among the sphere's five unless five facilities lie within that margin of each other.
# ``{where}`` adds conditions (e.g. a gate that skips the search).
NEAREST_ONE = """
SELECT c.id AS facility_id, c.distance_m FROM (
    SELECT f.id, ST_Distance(f.point::geography, {p}::geography) AS distance_m
      FROM {facility} f
     WHERE f.category = %(category)s AND f.status = %(open)s {where}
     ORDER BY f.point::geography <-> {p}::geography LIMIT 5) c
 ORDER BY c.distance_m, c.id LIMIT 1"""


def nearest_one(p: str, where: str = "") -> sql.Composed:
    return sql.compose(NEAREST_ONE, p=sql.SQL(p), where=sql.SQL(where), facility=Facility)


# Radius rules: every village/community point of the rule's kinds, covered when its nearest open
# facility of the category lies within its radius (geodesic metres), read from the maintained
# table (``NearestFacility``; an edited radius applies at once, as the distance is stored).
RADIUS_UNITS = """
units AS (
    SELECT n.demand_id AS id, n.kind, n.district_id, n.cluster_id, n.point AS geom,
           n.population, n.elderly,
           (CASE WHEN n.kind = 'community' THEN %(ru)s ELSE %(rr)s END)::float AS radius_m,
           COALESCE(n.distance_m <= (CASE WHEN n.kind = 'community' THEN %(ru)s ELSE %(rr)s END)::float, false)
               AS covered,
           NULL::int AS facility_count, NULL::bigint AS beds, NULL::float AS beds_required, n.distance_m
      FROM {nearest} n
     WHERE n.category = %(category)s AND n.kind = ANY(%(kinds)s)
       AND (%(district_id)s::bigint IS NULL OR n.district_id = %(district_id)s)
       AND (%(cluster)s::text IS NULL OR n.cluster_id = %(cluster)s)
)"""

# Presence and capacity rules: every division of the rule's level (and kinds), with its open
# facilities of the category counted and their beds summed.
LEVEL_UNITS = """
units0 AS (
    SELECT d.id, d.kind, {district_of_unit} AS district_id, d.cluster_id, d.point AS geom,
           {population}, NULL::float AS radius_m,
           COALESCE(fac.n, 0)::int AS facility_count, COALESCE(fac.beds, 0)::bigint AS beds
      FROM {division} d
      {population_join}
      LEFT JOIN (SELECT f.{facility_unit} AS unit_id, count(*) AS n, sum(COALESCE(f.beds, 0)) AS beds
                   FROM {facility} f WHERE f.category = %(category)s AND f.status = %(open)s
                  GROUP BY f.{facility_unit}) fac ON fac.unit_id = d.id
     WHERE d.level = %(level)s AND (cardinality(%(dkinds)s::text[]) = 0 OR d.kind = ANY(%(dkinds)s))
),
units AS (
    SELECT id, kind, district_id, cluster_id, geom, population, elderly, radius_m,
           {covered} AS covered, facility_count, beds, {required} AS beds_required, NULL::float AS distance_m
      FROM units0
     WHERE (%(district_id)s::bigint IS NULL OR district_id = %(district_id)s)
       AND (%(cluster)s::text IS NULL OR cluster_id = %(cluster)s)
)"""

OWN_POPULATION = "COALESCE(d.population, 0)::bigint AS population, COALESCE(d.elderly_population, 0)::bigint AS elderly"
CHILDREN_POPULATION = "COALESCE(pop.population, 0)::bigint AS population, COALESCE(pop.elderly, 0)::bigint AS elderly"
# Per level: the facility column naming the unit, the unit's district, and the villages under it.
LEVELS = {
    "district": ("district_id", "d.id", "v.parent_id IN (SELECT id FROM {division} WHERE parent_id = d.id)"),
    "township": ("division_id", "d.parent_id", "v.parent_id = d.id"),
    "village": ("village_id", "(SELECT t.parent_id FROM {division} t WHERE t.id = d.parent_id)", None),
}
VILLAGES_POPULATION = """LEFT JOIN LATERAL (
        SELECT sum(v.population) AS population, sum(v.elderly_population) AS elderly
          FROM {division} v WHERE {villages_under} AND v.level = 'village') pop ON true"""


def coverage_demand_kinds(standard: CoverageStandard) -> list[str]:
    kinds = []
    if standard.demand_kind in ("community", "all") and standard.radius_urban_m is not None:
        kinds.append("community")
    if standard.demand_kind in ("village", "all") and standard.radius_rural_m is not None:
        kinds.append("village")
    return kinds


def coverage_units(
    standard: CoverageStandard, *, district_id: int | None = None, cluster: str | None = None
) -> tuple[sql.Composed, dict]:
    """The CTE ``units``: one row per demand unit of the standard with id, code, name, kind,
    district_id, cluster_id, geom (its point, EPSG:4326), population, elderly, radius_m, covered,
    facility_count, beds, beds_required; limited to a district or cluster when given."""
    params = {
        "category": standard.category,
        "open": OPEN,
        "district_id": district_id,
        "cluster": cluster,
    }
    tables = {"division": Division, "facility": Facility}
    if standard.kind == CoverageStandard.Kind.RADIUS:
        params.update(kinds=coverage_demand_kinds(standard), ru=standard.radius_urban_m, rr=standard.radius_rural_m)
        return sql.compose(RADIUS_UNITS, nearest=NearestFacility), params
    if standard.level not in LEVELS:
        raise InvalidData(f"standard {standard.pk}: level {standard.level!r} is not district, township or village")
    facility_unit, district_of_unit, villages_under = LEVELS[standard.level]
    params.update(level=standard.level, dkinds=standard.kinds_list, min_count=standard.min_count)
    if villages_under is None:
        population, population_join = sql.SQL(OWN_POPULATION), sql.SQL("")
    else:
        population = sql.SQL(CHILDREN_POPULATION)
        population_join = sql.compose(
            VILLAGES_POPULATION, villages_under=sql.compose(villages_under, **tables), **tables
        )
    if standard.kind == CoverageStandard.Kind.CAPACITY:
        params["rate"] = standard.beds_per_1000_elderly
        covered, required = "beds >= elderly * %(rate)s / 1000.0", "elderly * %(rate)s / 1000.0"
    else:
        covered, required = "facility_count >= %(min_count)s", "NULL::float"
    query = sql.compose(
        LEVEL_UNITS,
        district_of_unit=sql.compose(district_of_unit, **tables),
        population=population,
        population_join=population_join,
        facility_unit=sql.Identifier(facility_unit),
        covered=sql.SQL(covered),
        required=sql.SQL(required),
        **tables,
    )
    return query, params


def district_id_or_none(district_code: str | None) -> int | None:
    return district_by_code(code=district_code).id if district_code else None


def cluster_or_none(slug: str | None) -> str | None:
    return cluster_check(slug=slug) if slug else None


def coverage_rule_label(standard: CoverageStandard) -> str:
    """The rule in a few words, e.g. ``radius: communities within 1000 m``."""
    if standard.kind == CoverageStandard.Kind.RADIUS:
        parts = []
        if standard.radius_urban_m is not None and standard.demand_kind in ("community", "all"):
            parts.append(f"communities within {standard.radius_urban_m} m")
        if standard.radius_rural_m is not None and standard.demand_kind in ("village", "all"):
            parts.append(f"villages within {standard.radius_rural_m} m")
        return "radius: " + ", ".join(parts)
    target = standard.level + (f" ({'/'.join(standard.kinds_list)})" if standard.kinds_list else "")
    if standard.kind == CoverageStandard.Kind.CAPACITY:
        return f"capacity: {standard.beds_per_1000_elderly:g} beds per 1,000 aged 60+ per {target}"
    return f"presence: at least {standard.min_count} per {target}"


def coverage_rule(standard: CoverageStandard) -> dict:
    return standard.describe() | {"label": coverage_rule_label(standard)}


# --- roll-ups -------------------------------------------------------------------------------------

# Per roll-up: the groups (key, code, name, cluster, sort), a unit's group key, and how the units'
# sums (one row per key) join their group.
GROUPS = {
    "district": (
        """SELECT g.id::text AS key, g.code, g.name, c.slug AS cluster, g.code AS sort
             FROM {division} g LEFT JOIN {cluster} c ON c.slug = g.cluster_id
            WHERE g.level = 'district' AND (%(district_id)s::bigint IS NULL OR g.id = %(district_id)s)""",
        "u.district_id::text",
        "per.key = g.key",
    ),
    "cluster": (
        "SELECT g.slug AS key, g.slug AS code, g.name, g.slug AS cluster, lpad(g.sort_order::text, 4, '0') AS sort"
        " FROM {cluster} g",
        "u.cluster_id",
        "per.key = g.key",
    ),
    "municipality": (
        "SELECT g.code AS key, g.code, g.name, NULL::text AS cluster, g.code AS sort"
        " FROM {division} g WHERE g.level = 'municipality'",
        "''",
        "true",
    ),
}

# The units are summed per group key first (a few dozen rows), then joined to every group.
ROLLUP_SQL = """
WITH {units}, g AS ({groups}),
per AS (
    SELECT {unit_key} AS key, count(u.id) AS demand_points, count(u.id) FILTER (WHERE u.covered) AS covered,
           sum(u.population) AS population, sum(u.population) FILTER (WHERE u.covered) AS population_covered,
           sum(u.elderly) AS elderly_population, sum(u.elderly) FILTER (WHERE u.covered) AS elderly_covered,
           sum(u.beds) AS beds, sum(u.beds_required) AS beds_required, sum(u.facility_count) AS facilities
      FROM units u GROUP BY 1
)
SELECT g.code, g.name, g.cluster, COALESCE(sum(per.demand_points), 0)::bigint AS demand_points,
       COALESCE(sum(per.covered), 0)::bigint AS covered, COALESCE(sum(per.population), 0) AS population,
       COALESCE(sum(per.population_covered), 0) AS population_covered,
       COALESCE(sum(per.elderly_population), 0) AS elderly_population,
       COALESCE(sum(per.elderly_covered), 0) AS elderly_covered,
       sum(per.beds) AS beds, sum(per.beds_required) AS beds_required,
       COALESCE(sum(per.facilities), 0) AS facilities
  FROM g LEFT JOIN per ON {join}
 GROUP BY g.code, g.name, g.cluster, g.sort
 ORDER BY g.sort
"""


def coverage_by_division(
    *, category: str, group_by: str = "district", kind: str | None = None, district_code: str | None = None
) -> dict:
    """Coverage of a category's standard rolled up by district, cluster or the municipality, in
    one SQL query: per group the demand units (villages/communities for a radius rule, divisions
    of the level for presence and capacity rules), how many are covered, the share, population
    and aged-60+ population in all and covered; capacity rules add beds and beds required.
    Distances are geodesic metres. Every group appears, with zeros when it has no demand."""
    if group_by not in GROUP_BYS:
        raise InvalidParameter(f"group_by {group_by!r} is not one of {', '.join(GROUP_BYS)}")
    standard = coverage_standard_get(category=category, kind=kind)
    units, params = coverage_units(standard, district_id=district_id_or_none(district_code))
    groups, unit_key, join = GROUPS[group_by]
    query = sql.compose(
        ROLLUP_SQL,
        units=units,
        groups=sql.compose(groups, division=Division, cluster=Cluster),
        unit_key=sql.SQL(unit_key),
        join=sql.SQL(join),
    )
    label = coverage_rule_label(standard)
    results = []
    for r in sql.rows(query, params, local_settings=NO_JIT):
        n, covered, elderly = r["demand_points"], r["covered"], int(r["elderly_population"])
        row = {
            "code": r["code"],
            "name": r["name"],
            "cluster": r["cluster"],
            "demand_points": n,
            "covered": covered,
            "covered_share": round(covered / n, 4) if n else None,
            "population": int(r["population"]),
            "population_covered": int(r["population_covered"]),
            "elderly_population": elderly,
            "elderly_covered": int(r["elderly_covered"]),
            "rule": label,
        }
        if standard.kind == CoverageStandard.Kind.CAPACITY:
            beds = int(r["beds"] or 0)
            row.update(
                beds=beds,
                beds_required=round(float(r["beds_required"] or 0), 1),
                beds_per_1000_elderly=round(1000 * beds / elderly, 1) if elderly else None,
            )
        elif standard.kind == CoverageStandard.Kind.PRESENCE:
            row["facilities"] = int(r["facilities"])
        results.append(row)
    return {"category": category, "group_by": group_by, "rule": coverage_rule(standard), "results": results}


# --- demand points and gaps -----------------------------------------------------------------------

# Metres to 0.1 m as numeric: written in JSON with their decimal (1000.0), read back as floats.
POINTS_SQL = """
WITH {units}
SELECT dv.code, dv.name, u.kind, dist.code AS district_code, dist.name AS district, u.cluster_id AS cluster,
       u.population::bigint, u.elderly::bigint,
       round(COALESCE(u.distance_m, near.distance_m)::numeric, 1) AS distance_m, u.facility_count,
       u.beds::bigint, round(u.beds_required::numeric, 1) AS beds_required,
       round(u.radius_m::numeric, 1) AS radius_m,
       round(ST_X(u.geom)::numeric, 6)::float8 AS lon, round(ST_Y(u.geom)::numeric, 6)::float8 AS lat,
       count(*) OVER () AS total, u.covered, row_number() OVER (ORDER BY {rank_order}, dv.code) AS rank
  FROM units u JOIN {division} dv ON dv.id = u.id LEFT JOIN {division} dist ON dist.id = u.district_id
  LEFT JOIN LATERAL ({near}) near ON true
 WHERE NOT (u.covered AND %(only_uncovered)s)
 ORDER BY {order}, dv.code
 LIMIT %(limit)s
"""
# A point's properties (name, column of POINTS_SQL; True: the value true), then its rule's own.
POINT_PROPERTIES = [
    ("rank", "rank"), ("code", "code"), ("name", "name"), ("kind", "kind"), ("district_code", "district_code"),
    ("district", "district"), ("cluster", "cluster"), ("population", "population"),
    ("elderly_population", "elderly"), ("nearest_facility_m", "distance_m"), ("covered", "covered"),
    ("is_synthetic", True),
]  # fmt: skip
WORST_FIRST = {
    CoverageStandard.Kind.CAPACITY: "(u.beds_required - u.beds) DESC",
    CoverageStandard.Kind.RADIUS: "u.elderly DESC, u.distance_m DESC NULLS FIRST",
    CoverageStandard.Kind.PRESENCE: "u.elderly DESC, near.distance_m DESC NULLS FIRST",
}


def coverage_gaps(
    *,
    category: str,
    district_code: str | None = None,
    cluster: str | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> dict:
    """The uncovered demand units of a category's standard, worst first: most aged-60+ people
    first (for capacity rules, the largest bed shortfall), then the farthest from the nearest open
    facility (geodesic metres). Each has its point (EPSG:4326) rendered with ST_AsGeoJSON."""
    return coverage_points(
        category=category, district_code=district_code, cluster=cluster, kind=kind, limit=limit, only_uncovered=True
    )


def coverage_points(
    *,
    category: str,
    district_code: str | None = None,
    cluster: str | None = None,
    kind: str | None = None,
    limit: int = 500,
    only_uncovered: bool = False,
) -> dict:
    """Every demand unit of a category's standard, covered or not, with the geodesic distance in
    metres to the nearest open facility of the category (KNN on geography, then ST_Distance on the
    spheroid); uncovered first, worst first (see ``coverage_gaps``). The features as dicts: those
    ``coverage_points_text`` has PostgreSQL write, parsed."""
    features, members = coverage_points_text(
        category=category,
        district_code=district_code,
        cluster=cluster,
        kind=kind,
        limit=limit,
        only_uncovered=only_uncovered,
    )
    return geojson_collection([json.loads(text) for text in features], **members)


def coverage_points_text(
    *,
    category: str,
    district_code: str | None = None,
    cluster: str | None = None,
    kind: str | None = None,
    limit: int = 500,
    only_uncovered: bool = False,
) -> tuple[list[str], dict]:
    """``coverage_points`` as PostgreSQL writes it: the features as GeoJSON texts (the point from
    lon/lat rounded to 1e-6 degrees, about 0.1 m; distances to 0.1 m) and the collection's members
    (``category``, ``rule``, ``total`` or ``total_uncovered``), for an answer sent as it is."""
    standard = coverage_standard_get(category=category, kind=kind)
    units, params = coverage_units(
        standard, district_id=district_id_or_none(district_code), cluster=cluster_or_none(cluster)
    )
    params.update(limit=limit, only_uncovered=only_uncovered)
    # Radius units carry their nearest distance; divisions (presence, capacity) search it here.
    if standard.kind == CoverageStandard.Kind.RADIUS:
        near = sql.SQL("SELECT NULL::float AS distance_m")
    else:
        near = nearest_one("u.geom")
    # Gaps alone are all uncovered: ordered worst first only.
    order = sql.SQL(WORST_FIRST[standard.kind] if only_uncovered else f"u.covered, {WORST_FIRST[standard.kind]}")
    points = sql.compose(POINTS_SQL, units=units, near=near, order=order, rank_order=order, division=Division)
    if standard.kind == CoverageStandard.Kind.RADIUS:
        extra = [("radius_m", "radius_m")]
    elif standard.kind == CoverageStandard.Kind.PRESENCE:
        extra = [("facilities", "facility_count")]
    else:
        extra = [("beds", "beds"), ("beds_required", "beds_required")]
    feature = sql.geojson_feature(
        geometry=sql.SQL("ST_MakePoint(r.lon, r.lat)"),
        properties=[
            (name, sql.SQL("TRUE") if column is True else sql.Identifier("r", column))
            for name, column in POINT_PROPERTIES + extra
        ],
    )
    query = sql.compose(
        "SELECT {feature} AS feature, r.total FROM ({points}) r ORDER BY r.rank", feature=feature, points=points
    )
    found = sql.rows(query, params, local_settings=NO_JIT)
    total_key = "total_uncovered" if only_uncovered else "total"
    members = {"category": category, "rule": coverage_rule(standard), total_key: found[0]["total"] if found else 0}
    return [r["feature"] for r in found], members
