"""Writes for boundary lines: deriving them from the division polygons, with their tri-junctions.

All geometry work happens in PostGIS. Lines and points are EPSG:4326; lengths are geodesic
(``ST_Length(geom::geography)``, spheroid), in metres.

- County level: for each pair of districts that touch, the shared edge is
  ``ST_LineMerge(ST_CollectionExtract(ST_Intersection(ST_Boundary(a), ST_Boundary(b)), 2))``.
  The district polygons share their vertices (same source, each vertex converted alone), so the
  intersection is exact.
- Township level: the same for pairs of townships of one district (generated polygons, synthetic).
- Provincial level: the municipality's outline intersected with each neighbouring province's
  outline (converted from GCJ-02 like the districts). The province polygons share the outline's
  vertices exactly (same source, same conversion), so no snapping is needed: the five lines add
  up to the perimeter (3,392,936 m; the tests check it within 0.1% and that they don't overlap).

Upserts by code: running it twice changes nothing, and lines keep their markers and history.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import shapely
from django.db import transaction

from boundaries.models import BoundaryLine, Division, TriJunction
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData
from gis_portal.core.geo import read_geojson_features, to_wgs84
from gis_portal.core.region import MUNICIPALITY_CODE

logger = logging.getLogger(__name__)

# Distance (degrees, about 1 cm) under which two vertices are the same point.
SAME_POINT_DEG = 1e-7

# The tables and the SRID the statements below are composed with.
PARTS = {"line": BoundaryLine, "division": Division, "wgs84": sql.Literal(WGS84)}

# The lines of one level are derived into the temporary table ``derived`` (by PAIRS_SQL or
# PROVINCES_SQL), then upserted into the lines by code.
UPSERT_SQL = sql.compose(
    """
INSERT INTO {line}
       (code, name, level, left_code, left_name, right_code, right_name, left_division_id,
        right_division_id, geom, length_m, is_synthetic, status)
SELECT code, name, level, left_code, left_name, right_code, right_name, left_id, right_id,
       geom, ST_Length(geom::geography), is_synthetic, 'clear'
  FROM derived
ON CONFLICT (code) WHERE valid_to IS NULL DO UPDATE SET
       name = EXCLUDED.name, level = EXCLUDED.level, left_code = EXCLUDED.left_code,
       left_name = EXCLUDED.left_name, right_code = EXCLUDED.right_code,
       right_name = EXCLUDED.right_name, left_division_id = EXCLUDED.left_division_id,
       right_division_id = EXCLUDED.right_division_id, geom = EXCLUDED.geom,
       length_m = EXCLUDED.length_m, is_synthetic = EXCLUDED.is_synthetic
""",
    **PARTS,
)

# The responsible district: the lower-coded side's district for county and township lines, the
# district whose outline shares most of a provincial line.
DISTRICT_SQL = sql.compose(
    """
UPDATE {line} l
   SET district_id = CASE WHEN d.level = 'district' THEN d.id ELSE d.parent_id END
  FROM {division} d
 WHERE l.level = %(level)s AND l.level <> 'province' AND d.id = l.left_division_id;
UPDATE {line} l
   SET district_id = (
        SELECT d.id FROM {division} d
         WHERE d.level = 'district' AND d.geom && l.geom
         ORDER BY ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(d.geom), l.geom), 2)) DESC, d.code
         LIMIT 1)
 WHERE l.level = %(level)s AND l.level = 'province' AND l.valid_to IS NULL;
""",
    **PARTS,
)

PAIRS_SQL = sql.compose(
    """
CREATE TEMP TABLE derived ON COMMIT DROP AS
WITH d AS (
    SELECT id, code, name, parent_id, geom, is_synthetic
      FROM {division} WHERE level = %(division_level)s AND geom IS NOT NULL
),
pairs AS (
    SELECT a.id AS left_id, a.code AS left_code, a.name AS left_name,
           b.id AS right_id, b.code AS right_code, b.name AS right_name,
           a.is_synthetic OR b.is_synthetic AS is_synthetic,
           ST_Multi(ST_LineMerge(ST_CollectionExtract(
               ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom)), 2))) AS geom
      FROM d a JOIN d b ON a.code < b.code AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
     WHERE (%(same_parent)s = false OR a.parent_id = b.parent_id)
       AND (%(only_ids)s::bigint[] IS NULL OR a.id = ANY(%(only_ids)s::bigint[]) OR b.id = ANY(%(only_ids)s::bigint[]))
)
SELECT left_code || '-' || right_code AS code, left_name || '—' || right_name AS name,
       %(line_level)s::text AS level, left_code, left_name, right_code, right_name, left_id, right_id,
       geom::geometry(MultiLineString, {wgs84}) AS geom, is_synthetic
  FROM pairs WHERE NOT ST_IsEmpty(geom)
""",
    **PARTS,
)

PROVINCES_SQL = sql.compose(
    """
CREATE TEMP TABLE derived ON COMMIT DROP AS
WITH m AS (
    SELECT id, code, name, ST_Boundary(geom) AS outline FROM {division} WHERE code = %(municipality)s
)
SELECT m.code || '-' || p.code AS code, m.name || '—' || p.name AS name, 'province'::text AS level,
       m.code AS left_code, m.name AS left_name, p.code AS right_code, p.name AS right_name,
       m.id AS left_id, NULL::bigint AS right_id,
       ST_Multi(ST_LineMerge(ST_CollectionExtract(ST_Intersection(m.outline, ST_Boundary(p.geom)), 2)))
           ::geometry(MultiLineString, {wgs84}) AS geom,
       false AS is_synthetic
  FROM m, neighbour_province p
 WHERE ST_Intersects(m.outline, p.geom)
""",
    **PARTS,
)

PROVINCES_TABLE_SQL = sql.compose(
    "CREATE TEMP TABLE neighbour_province (code text, name text, geom geometry(Geometry, {wgs84})) ON COMMIT DROP",
    **PARTS,
)
PROVINCE_INSERT_SQL = sql.compose(
    "INSERT INTO neighbour_province VALUES (%(code)s, %(name)s, ST_GeomFromWKB(%(wkb)s, %(srid)s))"
)

# Endpoints of the lines of one level; a point is a tri-junction where three or more sides meet:
# divisions of the level whose polygon touches it, neighbouring provinces whose provincial line
# passes through it (for the provincial level, the divisions are the municipality).
TRIJUNCTIONS_SQL = sql.compose(
    """
WITH ends AS (
    SELECT DISTINCT ST_SnapToGrid(pt, %(tol)s) AS geom
      FROM (SELECT ST_StartPoint(d.geom) AS pt
              FROM {line} l, ST_Dump(l.geom) d WHERE l.level = %(line_level)s AND l.valid_to IS NULL
            UNION ALL
            SELECT ST_EndPoint(d.geom)
              FROM {line} l, ST_Dump(l.geom) d WHERE l.level = %(line_level)s AND l.valid_to IS NULL) e
),
sides AS (
    SELECT ends.geom, s.code, s.name, s.division_id, s.is_synthetic
      FROM ends CROSS JOIN LATERAL (
            SELECT d.code, d.name, d.id AS division_id, d.is_synthetic
              FROM {division} d
             WHERE d.level = %(division_level)s AND ST_DWithin(d.geom, ends.geom, %(tol)s)
            UNION
            SELECT l.right_code, l.right_name, NULL, false
              FROM {line} l
             WHERE l.level = 'province' AND l.valid_to IS NULL AND ST_DWithin(l.geom, ends.geom, %(tol)s)
      ) s
)
SELECT geom, array_agg(DISTINCT code ORDER BY code) AS codes, array_agg(name ORDER BY code) AS names,
       array_remove(array_agg(DISTINCT division_id), NULL) AS division_ids, bool_or(is_synthetic) AS is_synthetic
  FROM sides GROUP BY geom HAVING count(DISTINCT code) >= 3
""",
    **PARTS,
)


@dataclass
class LinesReport:
    lines: dict[str, int]
    length_km: dict[str, float]
    trijunctions: dict[str, int]

    def __str__(self) -> str:
        return "; ".join(
            f"{level}: {self.lines[level]} lines, {self.length_km[level]:,.1f} km, "
            f"{self.trijunctions[level]} tri-junctions"
            for level in self.lines
        )


def _load_provinces(*, neighbours_geojson: Path, datum: str) -> None:
    """The neighbouring provinces' polygons (converted to WGS84) into the temporary table
    ``neighbour_province``; InvalidData unless the file holds the five of them, coded and named."""
    sql.execute(PROVINCES_TABLE_SQL)
    features = read_geojson_features(neighbours_geojson)
    if len(features) != 5:
        raise InvalidData(f"{neighbours_geojson}: expected the 5 neighbouring provinces, got {len(features)}")
    for properties, geom in features:
        code = str(properties.get("adcode") or properties.get("code") or "")
        if not code or not properties.get("name"):
            raise InvalidData(f"{neighbours_geojson}: a feature has no adcode/code or name")
        sql.execute(
            PROVINCE_INSERT_SQL,
            {
                "code": code,
                "name": properties["name"],
                "wkb": shapely.to_wkb(to_wgs84(geom, datum=datum)),
                "srid": WGS84,
            },
        )


def _upsert_level(*, level: str, derive_sql: sql.Composed, params: dict) -> set[str]:
    """Derive the lines of one level into ``derived``, upsert them, set their responsible
    district; return their codes."""
    sql.execute(derive_sql, params)
    sql.execute(UPSERT_SQL)
    sql.execute(DISTRICT_SQL, {"level": level})
    codes = {row["code"] for row in sql.rows(sql.SQL("SELECT code FROM derived"))}
    sql.execute(sql.SQL("DROP TABLE derived"))
    return codes


@transaction.atomic
def boundary_lines_derive(*, neighbours_geojson: Path, datum: str) -> LinesReport:
    """Derive the provincial, county and township lines and the tri-junctions of each level.

    Lines whose pair no longer touches are deleted (with their markers and history); the others
    are updated in place. Tri-junctions are rebuilt."""
    levels = BoundaryLine.Level
    codes: dict[str, set[str]] = {}
    try:
        _load_provinces(neighbours_geojson=neighbours_geojson, datum=datum)
    except InvalidData as exc:
        logger.info("boundary line derivation refused: %s", exc.message)
        raise
    codes[levels.PROVINCE] = _upsert_level(
        level=levels.PROVINCE, derive_sql=PROVINCES_SQL, params={"municipality": MUNICIPALITY_CODE}
    )
    for level, division_level, same_parent in (
        (levels.COUNTY, "district", False),
        (levels.TOWNSHIP, "township", True),
    ):
        codes[level] = _upsert_level(
            level=level,
            derive_sql=PAIRS_SQL,
            params={
                "division_level": division_level,
                "same_parent": same_parent,
                "line_level": level,
                "only_ids": None,
            },
        )
    for level, level_codes in codes.items():
        BoundaryLine.objects.filter(level=level).exclude(code__in=level_codes).delete()

    counts = {level: _trijunctions_rebuild(level) for level in (levels.PROVINCE, levels.COUNTY, levels.TOWNSHIP)}

    lengths = {
        level: sum(BoundaryLine.objects.filter(level=level).values_list("length_m", flat=True)) / 1000
        for level in codes
    }
    report = LinesReport(lines={k: len(v) for k, v in codes.items()}, length_km=lengths, trijunctions=counts)
    logger.info("boundary lines derived: %s", report)
    return report


# The divisions whose sides meet at a tri-junction of each line level.
TRIJUNCTION_DIVISION_LEVELS = {
    BoundaryLine.Level.PROVINCE: "municipality",
    BoundaryLine.Level.COUNTY: "district",
    BoundaryLine.Level.TOWNSHIP: "township",
}


def _trijunctions_rebuild(level: str) -> int:
    """Replace the tri-junctions of one line level with those of its lines in force; return how many."""
    TriJunction.objects.filter(level=level).delete()
    params = {"line_level": level, "division_level": TRIJUNCTION_DIVISION_LEVELS[level], "tol": SAME_POINT_DEG}
    rows = sql.rows(TRIJUNCTIONS_SQL, params)
    junctions = TriJunction.objects.bulk_create(
        [
            TriJunction(
                level=level,
                geom=row["geom"],
                codes=",".join(row["codes"]),
                names="、".join(row["names"]),
                is_synthetic=row["is_synthetic"],
            )
            for row in rows
        ]
    )
    through = TriJunction.divisions.through
    through.objects.bulk_create(
        [
            through(trijunction_id=junction.id, division_id=division_id)
            for junction, row in zip(junctions, rows, strict=True)
            for division_id in row["division_ids"]
        ]
    )
    return len(rows)


def township_trijunctions_rebuild() -> int:
    """The township tri-junctions again, after an applied division change redrew township lines
    (the whole level: about a second, and no tri-junction is left naming a unit that is gone)."""
    return _trijunctions_rebuild(BoundaryLine.Level.TOWNSHIP)


def township_lines_derive_around(*, division_ids: list[int]) -> set[str]:
    """Derive (upsert by code) the township lines of the given townships with their neighbours of
    the same district, after their polygons changed; return the codes derived. Lines of other
    townships are left alone; lines that no longer exist are the caller's to retire (with their
    history)."""
    return _upsert_level(
        level=BoundaryLine.Level.TOWNSHIP,
        derive_sql=PAIRS_SQL,
        params={
            "division_level": "township",
            "same_parent": True,
            "line_level": BoundaryLine.Level.TOWNSHIP,
            "only_ids": division_ids,
        },
    )
