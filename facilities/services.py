"""Writes and analysis of the facilities: import, derived divisions, coverage against the standards,
gap lists and suggested sites.

Every spatial answer is computed in SQL on geography (EPSG:4326 points, geodesic metres on the
WGS84 spheroid; ``<->`` on geography orders by sphere distance, then ``ST_Distance`` gives the
spheroid distance). Only the optimisation of suggested sites runs in Python, on a coverage matrix
that SQL built.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.db import connection, transaction
from psycopg2.extras import execute_values

from boundaries.models import Cluster, Division
from facilities.models import CoverageStandard, Facility
from gis_portal.errors import InvalidData, InvalidParameter, NotFound
from gis_portal.geo import SOURCE_DATUMS, WGS84, read_geojson_features, to_wgs84

MAX_REPORTED_ERRORS = 20
GROUP_BYS = ("district", "cluster", "municipality")
OPEN = Facility.Status.OPEN


# --- derived divisions -------------------------------------------------------------------------

DERIVE_SQL = """
UPDATE facilities_facility f
   SET division_id = hit.township_id, district_id = hit.district_id, village_id = hit.village_id
  FROM (
        SELECT f2.id,
               t.id AS township_id, t.parent_id AS district_id,
               (SELECT v.id FROM boundaries_division v
                 WHERE v.parent_id = t.id AND v.level = 'village' AND v.point IS NOT NULL
                 ORDER BY v.point::geography <-> f2.point::geography LIMIT 1) AS village_id
          FROM facilities_facility f2
          LEFT JOIN LATERAL (
                SELECT d.id, d.parent_id FROM boundaries_divisionpiece p
                  JOIN boundaries_division d ON d.id = p.division_id
                 WHERE p.level = 'township' AND ST_Covers(p.geom, f2.point)
                 ORDER BY d.code LIMIT 1
          ) t ON true
         WHERE %(all)s OR f2.id = ANY(%(ids)s)
  ) hit
 WHERE f.id = hit.id
"""


def facilities_derive_divisions(*, facility_ids: list[int] | None = None) -> int:
    """Set each facility's township (the one whose polygon covers its point; on a shared edge the
    lower code), district, and village (the nearest village/community point of that township,
    by geodesic distance). A point outside every township gets NULLs. Returns rows updated."""
    with connection.cursor() as cursor:
        cursor.execute(DERIVE_SQL, {"all": facility_ids is None, "ids": facility_ids or []})
        return cursor.rowcount


# --- import ---------------------------------------------------------------------------------------

CSV_REQUIRED = ("name", "category", "lon", "lat")


@dataclass
class FacilityImportReport:
    created: int = 0
    replaced: int = 0
    by_category: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        cats = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_category.items()))
        return f"{self.created} facilities imported ({cats}); {self.replaced} replaced"


def _clean_row(raw: dict, *, where: str, default_datum: str, errors: list[str]) -> dict | None:
    """Validate one input record (properties plus lon/lat, given in ``datum``) into model values;
    append a message naming ``where`` (line or feature) to ``errors`` and return None if bad."""

    def fail(message: str) -> None:
        errors.append(f"{where}: {message}")

    def text(key: str) -> str:
        value = raw.get(key)
        return "" if value is None else str(value).strip()

    name, category = text("name"), text("category")
    if not name:
        return fail("name is empty")
    if category not in Facility.Category.values:
        return fail(f"category {category!r} is not one of {', '.join(Facility.Category.values)}")
    operator = text("operator") or Facility.Operator.PUBLIC
    if operator not in Facility.Operator.values:
        return fail(f"operator {operator!r} is not one of {', '.join(Facility.Operator.values)}")
    status = text("status") or OPEN
    if status not in Facility.Status.values:
        return fail(f"status {status!r} is not one of {', '.join(Facility.Status.values)}")
    beds = None
    if text("beds"):
        try:
            beds = int(float(text("beds")))
        except ValueError:
            return fail(f"beds {text('beds')!r} is not a number")
        if beds < 0:
            return fail("beds is negative")
    opening = None
    if text("opening_date"):
        try:
            opening = datetime.date.fromisoformat(text("opening_date")[:10])
        except ValueError:
            return fail(f"opening_date {text('opening_date')!r} is not YYYY-MM-DD")
    datum = text("datum") or default_datum
    if datum not in SOURCE_DATUMS:
        return fail(f"datum {datum!r} is not one of {', '.join(SOURCE_DATUMS)}")
    try:
        lon, lat = float(raw["lon"]), float(raw["lat"])
    except (KeyError, TypeError, ValueError):
        return fail(f"lon/lat {raw.get('lon')!r}, {raw.get('lat')!r} are not numbers")
    if not (np.isfinite(lon) and np.isfinite(lat) and 97 <= lon <= 117 and 21 <= lat <= 39):
        return fail(f"({lon}, {lat}) is far outside Chongqing (swapped axes or a projected CRS?)")
    point = to_wgs84(shapely.Point(lon, lat), datum=datum)
    return {
        "name": name[:128],
        "category": category,
        "operator": operator,
        "beds": beds,
        "status": status,
        "address": text("address")[:255],
        "opening_date": opening,
        "lon": point.x,
        "lat": point.y,
        "source_datum": datum,
        "is_synthetic": text("is_synthetic").lower() in {"1", "true", "yes"},
    }


def _read_records(path: Path) -> list[tuple[str, dict]]:
    """(where, record) pairs of a CSV (lon/lat columns; line numbers as in the file), GeoJSON
    (Point features) or GeoPackage (points, reprojected to EPSG:4326 from the layer's CRS)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidData(f"{path.name}: cannot read as UTF-8 CSV ({exc})") from exc
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in CSV_REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidData(f"{path.name}: missing column(s) {', '.join(missing)}")
        return [(f"line {reader.line_num}", row) for row in reader]
    if suffix in (".geojson", ".json"):
        records = []
        for index, (props, geom) in enumerate(read_geojson_features(path), start=1):
            record = dict(props)
            if geom.geom_type == "Point":
                record["lon"], record["lat"] = geom.x, geom.y
            else:
                record["lon"] = record["lat"] = f"<{geom.geom_type}>"
            records.append((f"feature {index}", record))
        return records
    if suffix == ".gpkg":
        import pyogrio

        try:
            frame = pyogrio.read_dataframe(path)
        except Exception as exc:  # pyogrio raises several GDAL error types
            raise InvalidData(f"{path.name}: not a readable GeoPackage ({exc})") from exc
        if frame.crs is None:
            raise InvalidData(f"{path.name}: the layer has no CRS; give it one (EPSG:4326 or 4490)")
        frame = frame.to_crs(WGS84)
        records = []
        for index, row in enumerate(frame.to_dict("records"), start=1):
            geom = row.pop("geometry")
            if geom is not None and geom.geom_type == "Point":
                row["lon"], row["lat"] = geom.x, geom.y
            row = {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in row.items()}
            records.append((f"row {index}", row))
        return records
    raise InvalidData(f"{path.name}: unsupported file type; use .csv, .geojson or .gpkg")


@transaction.atomic
def facilities_import(
    *, path: Path, datum: str = "WGS84", source: str = "", replace: bool = False
) -> FacilityImportReport:
    """Import facilities from a CSV, GeoJSON or GeoPackage file, all or nothing.

    CSV columns: name, category, lon, lat, and optionally operator, beds, status, address,
    opening_date (YYYY-MM-DD) and datum (WGS84, CGCS2000 or GCJ-02; default ``datum``). GCJ-02
    points are rectified to WGS84. Every bad record is reported with its line (or feature/row)
    number and nothing is written; so is a point outside Chongqing's townships. With ``replace``,
    the facilities previously imported from the same ``source`` (default: the file name) are
    deleted first, which makes a re-import idempotent."""
    path = Path(path)
    if datum not in SOURCE_DATUMS:
        raise InvalidParameter(f"datum {datum!r} is not one of {', '.join(SOURCE_DATUMS)}")
    source = source or path.name
    errors: list[str] = []
    rows: list[tuple[str, dict]] = []
    for where, record in _read_records(path):
        clean = _clean_row(record, where=where, default_datum=datum, errors=errors)
        if clean:
            rows.append((where, clean))
    if not rows and not errors:
        raise InvalidData(f"{path.name}: no facilities in the file")
    if errors:
        _raise_errors(path.name, errors)
    report = FacilityImportReport()
    if replace:
        report.replaced, _ = Facility.objects.filter(source=source).delete()
    with connection.cursor() as cursor:
        ids = execute_values(
            cursor,
            "INSERT INTO facilities_facility (name, category, operator, beds, status, address, opening_date,"
            " point, is_synthetic, source, source_datum) VALUES %s RETURNING id",
            [
                (
                    r["name"],
                    r["category"],
                    r["operator"],
                    r["beds"],
                    r["status"],
                    r["address"],
                    r["opening_date"],
                    f"SRID=4326;POINT({r['lon']!r} {r['lat']!r})",
                    r["is_synthetic"],
                    source,
                    r["source_datum"],
                )
                for _, r in rows
            ],
            template="(%s, %s, %s, %s, %s, %s, %s, ST_GeomFromEWKT(%s), %s, %s, %s)",
            fetch=True,
            page_size=1000,
        )
    ids = [row[0] for row in ids]
    facilities_derive_divisions(facility_ids=ids)
    outside = set(Facility.objects.filter(id__in=ids, division__isnull=True).values_list("id", flat=True))
    if outside:
        _raise_errors(
            path.name,
            [
                f"{where}: the point is outside Chongqing"
                for (where, _), i in zip(rows, ids, strict=True)
                if i in outside
            ],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE facilities_facility")
    report.created = len(ids)
    for _, r in rows:
        report.by_category[r["category"]] = report.by_category.get(r["category"], 0) + 1
    return report


def _raise_errors(name: str, errors: list[str]) -> None:
    shown = errors[:MAX_REPORTED_ERRORS]
    more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
    raise InvalidData(f"{name}: {len(errors)} bad record(s), nothing imported: " + "; ".join(shown) + more)


# --- coverage ---------------------------------------------------------------------------------------


def _fetchall(sql: str, params: dict) -> list[tuple]:
    """Run one analysis query without JIT: its cost estimate (a correlated index probe per demand
    point) makes PostgreSQL JIT-compile it, which costs more (0.2-0.8 s) than the query itself."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


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


def _demand_kinds(standard: CoverageStandard) -> list[str]:
    kinds = []
    if standard.demand_kind in ("community", "all") and standard.radius_urban_m is not None:
        kinds.append("community")
    if standard.demand_kind in ("village", "all") and standard.radius_rural_m is not None:
        kinds.append("village")
    return kinds


PRESENCE_LEVEL = {
    # level: (facility FK column, district of the unit, population sub-select)
    "district": ("district_id", "d.id"),
    "township": ("division_id", "d.parent_id"),
    "village": ("village_id", "(SELECT t.parent_id FROM boundaries_division t WHERE t.id = d.parent_id)"),
}


def _units_sql(standard: CoverageStandard, *, with_distance: bool) -> tuple[str, dict]:
    """A CTE ``units`` with one row per demand unit of the standard: id, code, name, kind,
    district_id, cluster_id, geom (its point, EPSG:4326), population, elderly, covered,
    distance_m (geodesic metres to the nearest open facility of the category, or NULL),
    facility_count, beds, beds_required. Optional filter on ``%(district_id)s``."""
    params: dict[str, Any] = {"category": standard.category, "open": OPEN, "cluster": None}
    nearest = (
        """(SELECT ST_Distance(f.point::geography, d.point::geography) FROM facilities_facility f
             WHERE f.category = %(category)s AND f.status = %(open)s
             ORDER BY f.point::geography <-> d.point::geography LIMIT 1)"""
        if with_distance
        else "NULL::float"
    )
    if standard.kind == CoverageStandard.Kind.RADIUS:
        params.update(kinds=_demand_kinds(standard), ru=standard.radius_urban_m, rr=standard.radius_rural_m)
        radius = "(CASE WHEN d.kind = 'community' THEN %(ru)s ELSE %(rr)s END)::float"
        sql = f"""
        units AS (
            SELECT d.id, d.code, d.name, d.kind, t.parent_id AS district_id, d.cluster_id, d.point AS geom,
                   COALESCE(d.population, 0)::bigint AS population,
                   COALESCE(d.elderly_population, 0)::bigint AS elderly,
                   {radius} AS radius_m,
                   EXISTS (SELECT 1 FROM facilities_facility f
                            WHERE f.category = %(category)s AND f.status = %(open)s
                              AND ST_DWithin(f.point::geography, d.point::geography, {radius})) AS covered,
                   {nearest} AS distance_m,
                   NULL::int AS facility_count, NULL::bigint AS beds, NULL::float AS beds_required
              FROM boundaries_division d JOIN boundaries_division t ON t.id = d.parent_id
             WHERE d.level = 'village' AND d.point IS NOT NULL AND d.kind = ANY(%(kinds)s)
               AND (%(district_id)s::bigint IS NULL OR t.parent_id = %(district_id)s)
               AND (%(cluster)s::text IS NULL OR d.cluster_id = %(cluster)s)
        )"""  # noqa: S608 (only this module's fixed SQL fragments are interpolated)
        return sql, params
    level = standard.level
    if level not in PRESENCE_LEVEL:
        raise InvalidData(f"standard {standard.pk}: level {level!r} is not district, township or village")
    fk, district_expr = PRESENCE_LEVEL[level]
    params.update(level=level, dkinds=standard.kinds_list, min_count=standard.min_count)
    if level == "village":
        population = (
            "COALESCE(d.population, 0)::bigint AS population, COALESCE(d.elderly_population, 0)::bigint AS elderly"
        )
        pop_join = ""
    else:
        child = (
            "v.parent_id = d.id"
            if level == "township"
            else "v.parent_id IN (SELECT id FROM boundaries_division WHERE parent_id = d.id)"
        )
        population = "COALESCE(pop.population, 0)::bigint AS population, COALESCE(pop.elderly, 0)::bigint AS elderly"
        pop_join = f"""LEFT JOIN LATERAL (SELECT sum(v.population) AS population, sum(v.elderly_population) AS elderly
                                 FROM boundaries_division v WHERE {child} AND v.level = 'village') pop ON true"""  # noqa: S608 (only this module's fixed SQL fragments are interpolated)
    if standard.kind == CoverageStandard.Kind.CAPACITY:
        params["rate"] = standard.beds_per_1000_elderly
        covered, required = "beds >= elderly * %(rate)s / 1000.0", "elderly * %(rate)s / 1000.0"
    else:
        covered, required = "facility_count >= %(min_count)s", "NULL::float"
    sql = f"""
    units0 AS (
        SELECT d.id, d.code, d.name, d.kind, {district_expr} AS district_id, d.cluster_id, d.point AS geom,
               {population}, NULL::float AS radius_m,
               {nearest} AS distance_m,
               COALESCE(fac.n, 0)::int AS facility_count, COALESCE(fac.beds, 0)::bigint AS beds
          FROM boundaries_division d
          {pop_join}
          LEFT JOIN (SELECT f.{fk} AS unit_id, count(*) AS n, sum(COALESCE(f.beds, 0)) AS beds
                       FROM facilities_facility f WHERE f.category = %(category)s AND f.status = %(open)s
                      GROUP BY f.{fk}) fac ON fac.unit_id = d.id
         WHERE d.level = %(level)s AND (cardinality(%(dkinds)s::text[]) = 0 OR d.kind = ANY(%(dkinds)s))
    ),
    units AS (
        SELECT id, code, name, kind, district_id, cluster_id, geom, population, elderly, radius_m,
               {covered} AS covered, distance_m, facility_count, beds, {required} AS beds_required
          FROM units0
         WHERE (%(district_id)s::bigint IS NULL OR district_id = %(district_id)s)
           AND (%(cluster)s::text IS NULL OR cluster_id = %(cluster)s)
    )"""  # noqa: S608 (only this module's fixed SQL fragments are interpolated)
    return sql, params


def _district_id(district_code: str | None) -> int | None:
    if not district_code:
        return None
    district = Division.objects.filter(code=district_code, level=Division.Level.DISTRICT).first()
    if district is None:
        raise InvalidParameter(f"district: no district/county with code {district_code}")
    return district.id


def _cluster(slug: str | None) -> str | None:
    if slug and not Cluster.objects.filter(slug=slug).exists():
        raise InvalidParameter(f"cluster: no cluster {slug!r}")
    return slug or None


def _rule_label(standard: CoverageStandard) -> str:
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


GROUPS_SQL = {
    "district": (
        "SELECT g.id::text AS key, g.code, g.name, c.slug AS cluster, g.code AS sort"
        " FROM boundaries_division g LEFT JOIN boundaries_cluster c ON c.slug = g.cluster_id"
        " WHERE g.level = 'district' AND (%(district_id)s::bigint IS NULL OR g.id = %(district_id)s)",
        "u.district_id::text = g.key",
    ),
    "cluster": (
        "SELECT g.slug AS key, g.slug AS code, g.name, g.slug AS cluster, lpad(g.sort_order::text, 4, '0') AS sort"
        " FROM boundaries_cluster g",
        "u.cluster_id = g.key",
    ),
    "municipality": (
        "SELECT g.code AS key, g.code, g.name, NULL::text AS cluster, g.code AS sort"
        " FROM boundaries_division g WHERE g.level = 'municipality'",
        "true",
    ),
}


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
    units, params = _units_sql(standard, with_distance=False)
    params["district_id"] = _district_id(district_code)
    groups, join = GROUPS_SQL[group_by]
    sql = f"""
    WITH {units}, g AS ({groups})
    SELECT g.code, g.name, g.cluster, count(u.id), count(u.id) FILTER (WHERE u.covered),
           COALESCE(sum(u.population), 0), COALESCE(sum(u.population) FILTER (WHERE u.covered), 0),
           COALESCE(sum(u.elderly), 0), COALESCE(sum(u.elderly) FILTER (WHERE u.covered), 0),
           sum(u.beds), sum(u.beds_required), COALESCE(sum(u.facility_count), 0)
      FROM g LEFT JOIN units u ON {join}
     GROUP BY g.code, g.name, g.cluster, g.sort
     ORDER BY g.sort
    """  # noqa: S608 (only this module's fixed SQL fragments are interpolated)
    rows = _fetchall(sql, params)
    label = _rule_label(standard)
    results = []
    for code, name, cluster, n, covered, pop, pop_cov, eld, eld_cov, beds, required, nfac in rows:
        row = {
            "code": code,
            "name": name,
            "cluster": cluster,
            "demand_points": n,
            "covered": covered,
            "covered_share": round(covered / n, 4) if n else None,
            "population": int(pop),
            "population_covered": int(pop_cov),
            "elderly_population": int(eld),
            "elderly_covered": int(eld_cov),
            "rule": label,
        }
        if standard.kind == CoverageStandard.Kind.CAPACITY:
            row.update(
                beds=int(beds or 0),
                beds_required=round(float(required or 0), 1),
                beds_per_1000_elderly=round(1000 * int(beds or 0) / int(eld), 1) if eld else None,
            )
        elif standard.kind == CoverageStandard.Kind.PRESENCE:
            row["facilities"] = int(nfac)
        results.append(row)
    return {
        "category": category,
        "group_by": group_by,
        "rule": standard.describe() | {"label": label},
        "results": results,
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
    spheroid); uncovered first, worst first (see ``coverage_gaps``)."""
    standard = coverage_standard_get(category=category, kind=kind)
    units, params = _units_sql(standard, with_distance=False)
    params.update(
        district_id=_district_id(district_code), cluster=_cluster(cluster), limit=limit, only_uncovered=only_uncovered
    )
    order = (
        "(u.beds_required - u.beds) DESC"
        if standard.kind == CoverageStandard.Kind.CAPACITY
        else "u.elderly DESC, near.distance_m DESC NULLS FIRST"
    )
    sql = f"""
    WITH {units}
    SELECT u.code, u.name, u.kind, dist.code, dist.name, u.cluster_id, u.population, u.elderly,
           near.distance_m, u.facility_count, u.beds, u.beds_required, u.radius_m, ST_AsGeoJSON(u.geom, 6),
           count(*) OVER (), u.covered
      FROM units u LEFT JOIN boundaries_division dist ON dist.id = u.district_id
      LEFT JOIN LATERAL (
            SELECT ST_Distance(f.point::geography, u.geom::geography) AS distance_m FROM facilities_facility f
             WHERE f.category = %(category)s AND f.status = %(open)s
             ORDER BY f.point::geography <-> u.geom::geography LIMIT 1) near ON true
     WHERE NOT (u.covered AND %(only_uncovered)s)
     ORDER BY u.covered, {order}, u.code
     LIMIT %(limit)s
    """  # noqa: S608 (only this module's fixed SQL fragments are interpolated)
    rows = _fetchall(sql, params)
    features = []
    for rank, r in enumerate(rows, start=1):
        props = {
            "rank": rank,
            "code": r[0],
            "name": r[1],
            "kind": r[2],
            "district_code": r[3],
            "district": r[4],
            "cluster": r[5],
            "population": int(r[6]),
            "elderly_population": int(r[7]),
            "nearest_facility_m": round(r[8], 1) if r[8] is not None else None,
            "covered": r[15],
            "is_synthetic": True,
        }
        if standard.kind == CoverageStandard.Kind.RADIUS:
            props["radius_m"] = r[12]
        elif standard.kind == CoverageStandard.Kind.PRESENCE:
            props["facilities"] = r[9]
        else:
            props.update(beds=int(r[10]), beds_required=round(float(r[11]), 1))
        features.append({"type": "Feature", "geometry": _json(r[13]), "properties": props})
    return {
        "type": "FeatureCollection",
        "category": category,
        "rule": standard.describe() | {"label": _rule_label(standard)},
        ("total_uncovered" if only_uncovered else "total"): rows[0][14] if rows else 0,
        "features": features,
    }


def _json(text: str | None) -> Any:
    import json

    return json.loads(text) if text else None


# --- suggested sites ----------------------------------------------------------------------------

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
    """Maximal covering location problem (Church & ReVelle) solved by spopt's ``MCLP`` with CBC,
    over at most MAX_CANDIDATES candidates (the best by coverable weight, plus greedy's picks so
    the optimum can never be worse than greedy). If CBC stops at its time limit with a worse
    answer than greedy, greedy's answer is returned. Sites that add nothing are dropped."""
    import pulp
    from spopt.locate import MCLP

    greedy = sites_greedy(problem, k=k)
    n_cand = problem.covers.shape[0]
    if n_cand == 0 or not greedy:
        return []
    potential = problem.covers @ problem.weights
    keep = set(np.argsort(-potential, kind="stable")[:MAX_CANDIDATES].tolist()) | set(greedy)
    keep = sorted(i for i in keep if potential[i] > 0)
    sub = problem.covers[keep]
    clients = np.flatnonzero(sub.any(axis=0))
    sub = sub[:, clients]
    weights = problem.weights[clients].astype(float)
    p = min(k, len(keep))
    cost = np.where(sub.T, 0.0, 2.0)  # clients x candidates; covered iff cost <= 1
    model = MCLP.from_cost_matrix(cost, weights, service_radius=1.0, p_facilities=p)
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s), results=False)
        picked = [keep[j] for j, var in enumerate(model.fac_vars) if var.value() and var.value() > 0.5]
    except Exception:  # an infeasible or failed solve: fall back to the baseline
        picked = []
    if problem.coverage_of(picked) < problem.coverage_of(greedy):
        picked = greedy
    return _order_by_gain(problem, picked)


def _order_by_gain(problem: SitingProblem, chosen: list[int]) -> list[int]:
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


def coverage_suggest(
    *,
    category: str,
    k: int,
    district_code: str | None = None,
    cluster: str | None = None,
    weight: str = "population",
) -> dict:
    """Up to ``k`` new sites that cover the most uncovered ``weight`` (population or elderly),
    existing open facilities kept. Radius rules: candidates and demand are the uncovered demand
    points (in the district, if given); a candidate covers a demand point within the point's
    radius (geodesic metres, pairs found with ST_DWithin on geography); solved as an MCLP.
    Presence rules: each site serves one division, so the optimum is the k uncovered divisions
    with most weight, each at its representative point. Returns a GeoJSON FeatureCollection of
    the sites with what each newly covers (counted in order, without double counting)."""
    if weight not in ("population", "elderly"):
        raise InvalidParameter("weight must be population or elderly")
    standard = coverage_standard_get(category=category)
    if standard.kind == CoverageStandard.Kind.CAPACITY:
        raise InvalidParameter(f"{category} has a capacity rule: sites do not apply, add beds")
    units, params = _units_sql(standard, with_distance=False)
    params.update(district_id=_district_id(district_code), cluster=_cluster(cluster))
    demand = _fetchall(
        f"""WITH {units}
            SELECT u.id, u.code, u.name, u.kind, u.population, u.elderly, ST_X(u.geom), ST_Y(u.geom),
                   dist.code, dist.name, u.radius_m
              FROM units u LEFT JOIN boundaries_division dist ON dist.id = u.district_id
             WHERE NOT u.covered AND u.geom IS NOT NULL ORDER BY u.code""",  # noqa: S608 (only this module's fixed SQL fragments are interpolated)
        params,
    )
    ids = [row[0] for row in demand]
    if standard.kind == CoverageStandard.Kind.RADIUS and demand:
        # Pairs (candidate a, demand b) within b's radius; a bounding-box test in degrees
        # (generous: 1 degree of longitude is at least 80 km here) prunes before the exact one.
        pairs = _fetchall(
            """WITH d AS (SELECT id, point, CASE WHEN kind = 'community' THEN %(ru)s ELSE %(rr)s END::float AS r
                            FROM boundaries_division WHERE id = ANY(%(ids)s))
               SELECT a.id, b.id FROM d a JOIN d b
                 ON a.point && ST_Expand(b.point, b.r / 80000.0)
                AND ST_DWithin(a.point::geography, b.point::geography, b.r)""",
            {"ids": ids, "ru": standard.radius_urban_m, "rr": standard.radius_rural_m},
        )
    else:
        pairs = [(i, i) for i in ids]
    index = {unit_id: i for i, unit_id in enumerate(ids)}
    covers = np.zeros((len(ids), len(ids)), dtype=bool)
    for a, b in pairs:
        covers[index[a], index[b]] = True
    weights = np.array([row[4] if weight == "population" else row[5] for row in demand], dtype=float)
    problem = SitingProblem(weights=weights, covers=covers)
    chosen = sites_mclp(problem, k=k) if standard.kind == CoverageStandard.Kind.RADIUS else sites_greedy(problem, k=k)
    covered = np.zeros(len(ids), dtype=bool)
    features = []
    for rank, c in enumerate(chosen, start=1):
        new = covers[c] & ~covered
        covered |= covers[c]
        row = demand[c]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(row[6], 6), round(row[7], 6)]},
                "properties": {
                    "rank": rank,
                    "at_code": row[1],
                    "at_name": row[2],
                    "district_code": row[8],
                    "district": row[9],
                    "newly_covered_points": int(new.sum()),
                    "population_newly_covered": int(sum(demand[i][4] for i in np.flatnonzero(new))),
                    "elderly_newly_covered": int(sum(demand[i][5] for i in np.flatnonzero(new))),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "category": category,
        "k": k,
        "weight": weight,
        "method": "mclp" if standard.kind == CoverageStandard.Kind.RADIUS else "presence",
        "rule": standard.describe() | {"label": _rule_label(standard)},
        "uncovered_points": len(ids),
        "uncovered_population": int(sum(row[4] for row in demand)),
        "population_newly_covered": int(sum(f["properties"]["population_newly_covered"] for f in features)),
        "features": features,
    }


# --- folium report ----------------------------------------------------------------------------------

SHARE_COLOURS = ((0.5, "#d7301f"), (0.7, "#fc8d59"), (0.9, "#fdcc8a"), (1.01, "#1a9850"))


def share_colour(share: float | None) -> str:
    if share is None:
        return "#cccccc"
    return next(colour for limit, colour in SHARE_COLOURS if share < limit)


def _vendored(path: str) -> str:
    """The text of a vendored static file (e.g. Leaflet from django-leaflet)."""
    from django.contrib.staticfiles import finders

    return Path(finders.find(path)).read_text(encoding="utf-8")


def coverage_report_html(
    *, category: str, district_code: str | None = None, cluster: str | None = None, k: int = 5
) -> str:
    """A standalone HTML map (folium) of one district, one cluster or the whole municipality:
    districts coloured by covered share, the gaps (worst 300) and up to ``k`` suggested sites.
    Self-contained: Leaflet (the vendored copy) is inlined instead of folium's CDN links, so the
    file works when mailed and opened offline; no basemap unless configured."""
    import json

    import folium
    from django.conf import settings

    if district_code and cluster:
        raise InvalidParameter("give a district or a cluster, not both")
    district_id, cluster = _district_id(district_code), _cluster(cluster)
    rollup = coverage_by_division(category=category, group_by="district", district_code=district_code)
    shares = {row["code"]: row for row in rollup["results"]}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.002), 5),
                      ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
                 FROM boundaries_division
                WHERE level = 'district' AND (%(d)s::bigint IS NULL OR id = %(d)s)
                  AND (%(c)s::text IS NULL OR cluster_id = %(c)s) ORDER BY code""",
            {"d": district_id, "c": cluster},
        )
        districts = cursor.fetchall()
    title = f"{Facility.Category(category).label} — {rollup['rule']['label']}"
    fmap = folium.Map(tiles=None, control_scale=True)
    fmap.default_js, fmap.default_css = [], []  # no CDN: Leaflet is inlined below, nothing else is used
    header = fmap.get_root().header
    header.add_child(folium.Element(f"<style>{_vendored('leaflet/leaflet.css')}</style>"), name="leaflet_css")
    header.add_child(folium.Element(f"<script>{_vendored('leaflet/leaflet.js')}</script>"), name="leaflet")
    if settings.BASEMAP_URL:
        folium.TileLayer(settings.BASEMAP_URL, attr=settings.BASEMAP_ATTRIBUTION or "basemap").add_to(fmap)
    features = []
    for code, name, geojson, *_ in districts:
        row = shares.get(code, {})
        share = row.get("covered_share")
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geojson),
                "properties": {
                    "name": name,
                    "code": code,
                    "covered": f"{row.get('covered', 0)} / {row.get('demand_points', 0)}",
                    "share": "–" if share is None else f"{share:.0%}",
                    "colour": share_colour(share),
                },
            }
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="coverage",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#444",
            "weight": 1,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "covered", "share"], aliases=["", "covered", "share"]),
    ).add_to(fmap)
    gaps = coverage_gaps(category=category, district_code=district_code, cluster=cluster, limit=300)
    gap_layer = folium.FeatureGroup(name="gaps").add_to(fmap)
    for f in gaps["features"]:
        lon, lat = f["geometry"]["coordinates"]
        p = f["properties"]
        folium.CircleMarker(
            [lat, lon], radius=4, color="#b2182b", fill=True, fill_opacity=0.8,
            tooltip=f"{p['rank']}. {p['name']} ({p['district']}) — {p['elderly_population']} aged 60+",
        ).add_to(gap_layer)  # fmt: skip
    if rollup["rule"]["kind"] != CoverageStandard.Kind.CAPACITY and k > 0:
        sites = coverage_suggest(category=category, k=k, district_code=district_code, cluster=cluster)
        site_layer = folium.FeatureGroup(name="suggested sites").add_to(fmap)
        for f in sites["features"]:
            lon, lat = f["geometry"]["coordinates"]
            p = f["properties"]
            folium.CircleMarker(
                [lat, lon],
                radius=9,
                color="#1a4f9c",
                weight=3,
                fill=True,
                fill_color="#4f8fe0",
                fill_opacity=0.9,
                tooltip=f"#{p['rank']} near {p['at_name']}: +{p['population_newly_covered']} people",
            ).add_to(site_layer)
    folium.LayerControl().add_to(fmap)
    if districts:
        fmap.fit_bounds(
            [[min(d[4] for d in districts), min(d[3] for d in districts)],
             [max(d[6] for d in districts), max(d[5] for d in districts)]]
        )  # fmt: skip
    legend = "".join(
        f'<span style="background:{colour};padding:0 0.6em;margin-left:0.5em"></span> &lt; {limit:.0%}'
        if limit <= 1 else f'<span style="background:{colour};padding:0 0.6em;margin-left:0.5em"></span> ≥ 90%'
        for limit, colour in SHARE_COLOURS
    )  # fmt: skip
    header = (
        f'<div style="position:fixed;top:8px;left:50px;z-index:1000;background:#fff;padding:6px 10px;'
        f'font:14px sans-serif;box-shadow:0 0 4px #0004"><b>{title}</b><br>{legend}<br>'
        f"<small>{gaps['total_uncovered']} uncovered; demand data and facilities generated for the demo "
        f"(synthetic). Source: {rollup['rule']['source']}</small></div>"
    )
    fmap.get_root().html.add_child(folium.Element(header))
    return fmap.get_root().render()
