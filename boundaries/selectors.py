"""Reads of the divisions and the boundary lines: where a point is (``division_locate``), lists and
single lines for the API and the pages, a line's inspection history, the inspection roll-ups, and
look-ups of a district or cluster by code.

Geometries are EPSG:4326; distances and lengths are geodesic metres (spheroid)."""

import datetime

from django.contrib.gis.db.models import GeometryField
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from boundaries.history_models import DivisionArea, DivisionVersion
from boundaries.history_selectors import boundary_lines_on
from boundaries.models import BoundaryLine, BoundaryProblem, Cluster, Division, DivisionPiece, Inspection, Marker
from gis_portal.core import sql
from gis_portal.core.api import with_geojson
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter, NotFound, OutsideRegion
from gis_portal.core.region import CODE_DIGITS, MUNICIPALITY_CODE, MUNICIPALITY_NAME

# The point and the current polygons that cover it, one a level (on a shared edge, the lower code):
# the start of both locate queries, undated and dated.
LOCATE_HIT = sql.compose(
    """WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), %(srid)s) AS g),
hit AS (
    SELECT DISTINCT ON (d.level) d.id, d.level, d.code, d.name, d.is_synthetic, d.cluster_id
      FROM {piece} p JOIN {division} d ON d.id = p.division_id, pt
     WHERE p.level IN ('municipality', 'district', 'township') AND ST_Covers(p.geom, pt.g)
     ORDER BY d.level, d.code
)""",
    piece=DivisionPiece,
    division=Division,
)

LOCATE_SQL = sql.compose(
    """
{hit}
SELECT hit.level, hit.code, hit.name, hit.is_synthetic, c.slug AS cluster_code, c.name AS cluster_name,
       v.code AS village_code, v.name AS village_name, v.is_synthetic AS village_is_synthetic, v.distance_m
  FROM hit
  LEFT JOIN {cluster} c ON c.slug = hit.cluster_id AND hit.level = 'district'
  LEFT JOIN LATERAL (
        SELECT v.code, v.name, v.is_synthetic, ST_Distance(v.point::geography, pt.g::geography) AS distance_m
          FROM {division} v, pt
         WHERE hit.level = 'township' AND v.parent_id = hit.id AND v.level = 'village' AND v.point IS NOT NULL
         ORDER BY v.point <-> pt.g
         LIMIT 1
  ) v ON true
""",
    hit=LOCATE_HIT,
    division=Division,
    cluster=Cluster,
)


LOCATE_ON_SQL = sql.compose(
    """
{hit},
dated AS (
    SELECT DISTINCT ON (hit.level)
           hit.level, coalesce(v.code, hit.code) AS code, coalesce(v.name, hit.name) AS name, hit.is_synthetic,
           hit.cluster_id, v.code AS version_code
      FROM hit
      LEFT JOIN {area} a ON a.division_id = hit.id
            AND (a.valid_from IS NULL OR a.valid_from <= %(on)s) AND (a.valid_to IS NULL OR a.valid_to > %(on)s)
            AND (a.geom IS NULL OR ST_Covers(a.geom, (SELECT g FROM pt)))
      LEFT JOIN {version} v ON v.id = a.version_id
     WHERE hit.level = 'municipality' OR v.id IS NOT NULL
     ORDER BY hit.level, v.code
)
SELECT dated.level, dated.code, dated.name, dated.is_synthetic, c.slug AS cluster_code, c.name AS cluster_name,
       vi.code AS village_code, vi.name AS village_name, vi.is_synthetic AS village_is_synthetic, vi.distance_m
  FROM dated
  LEFT JOIN {cluster} c ON c.slug = dated.cluster_id AND dated.level = 'district'
  LEFT JOIN LATERAL (
        SELECT vv.code, vv.name, g.is_synthetic, ST_Distance(g.point::geography, pt.g::geography) AS distance_m
          FROM {version} vv JOIN {division} g ON g.id = vv.geometry_from_id, pt
         WHERE dated.level = 'township' AND vv.parent_code = dated.version_code  -- a township's children are villages
           AND (vv.valid_from IS NULL OR vv.valid_from <= %(on)s) AND (vv.valid_to IS NULL OR vv.valid_to > %(on)s)
           AND g.point IS NOT NULL
         ORDER BY g.point <-> pt.g
         LIMIT 1
  ) vi ON true
""",
    hit=LOCATE_HIT,
    division=Division,
    cluster=Cluster,
    area=DivisionArea,
    version=DivisionVersion,
)


LOCATE = sql.Prepared("division_locate", LOCATE_SQL, ("lon", "lat", "srid"))
LOCATE_ON = sql.Prepared("division_locate_on", LOCATE_ON_SQL, ("lon", "lat", "srid", "on"))


def _ref(code: str, name: str, is_synthetic: bool) -> dict:
    ref = {"code": code, "name": name}
    if is_synthetic:
        ref["is_synthetic"] = True
    return ref


def division_locate(*, lon: float, lat: float, on: datetime.date | None = None) -> dict:
    """The municipality, cluster, district, township and village/community of a WGS84 point.

    One SQL round trip. Polygons are tested with ST_Covers on their indexed pieces
    (DivisionPiece), so each test touches at most a few hundred vertices; a point on a shared
    edge goes to the lower code. Villages and communities are points, so the village is the
    nearest one of the point's township (KNN ``<->``), with its geodesic distance in metres
    (spheroid, error well under a metre). Raises OutsideRegion when the point is not in Chongqing.

    With ``on``, the units in force that day: the current polygon hit is mapped to the version that
    answered for its area then (``DivisionArea``; of a polygon that merged units, the one whose
    part covers the point), and the village is the nearest of that
    township's villages then (at their current points); a point in an area no unit of the lists
    answered for (a township that only began later, split from no other) has no township.
    """
    if on is None:
        rows = sql.prepared_rows(LOCATE, {"lon": lon, "lat": lat, "srid": WGS84})
    else:
        rows = sql.prepared_rows(LOCATE_ON, {"lon": lon, "lat": lat, "srid": WGS84, "on": on})
    answer: dict = {level: None for level in ("municipality", "cluster", "district", "township", "village")}
    for row in rows:
        answer[row["level"]] = _ref(row["code"], row["name"], row["is_synthetic"])
        if row["cluster_code"]:
            answer["cluster"] = {"code": row["cluster_code"], "name": row["cluster_name"]}
        if row["village_code"]:
            answer["village"] = {
                **_ref(row["village_code"], row["village_name"], row["village_is_synthetic"]),
                "distance_m": round(row["distance_m"], 1),
            }
    if answer["municipality"] is None:
        raise OutsideRegion(f"({lon}, {lat}) is outside Chongqing municipality")
    return answer


def division_list() -> QuerySet[Division]:
    """All divisions with what the API shows, ``shape`` (an alias, for ``with_geojson``) being the
    polygon or, for villages and communities, their point. The geometries themselves are not read
    (rendered in SQL instead): a district's full polygon, and its parent's with every row, made
    the districts' layer cost about 0.5 s of reading and parsing for 120 KB of answer."""
    return (
        Division.objects.select_related("parent", "cluster")
        .defer("geom", "point", "parent__geom", "parent__point")
        .alias(shape=Coalesce("geom", "point", output_field=GeometryField(srid=WGS84)))
        .order_by("code")
    )


def cluster_list() -> QuerySet[Cluster]:
    return Cluster.objects.order_by("sort_order")


# --- Boundary lines, markers and inspections -------------------------------------------------

INSPECTION_CYCLE_YEARS = 5


class YearsLater(Func):
    """A date plus whole calendar years, as a date (29 February plus 5 years is 28 February):
    ``YearsLater(F("date"), Value(5))`` is ``("date" + make_interval(years => 5))::date``."""

    template = "(%(expressions)s))::date"
    arg_joiner = " + make_interval(years => "
    arity = 2
    output_field = DateField()


def boundary_line_list(*, today: datetime.date, on: datetime.date | None = None) -> QuerySet[BoundaryLine]:
    """Lines with ``next_due`` (last inspection + 5 years) and ``overdue`` (never inspected, or
    ``today`` is past ``next_due``) annotated in SQL, the cluster of the responsible district, and
    ``history_is_synthetic`` when the inspection history (hence status and dates) is generated.
    The lines in force, or with ``on`` those in force that day, their sides as they were then."""
    next_due = YearsLater(F("last_inspected"), Value(INSPECTION_CYCLE_YEARS))
    lines = (
        (BoundaryLine.dated if on else BoundaryLine.objects)
        .annotate(
            next_due=next_due,
            district_code=F("district__code"),
            cluster_slug=F("district__cluster_id"),
            history_is_synthetic=Exists(Inspection.objects.filter(line=OuterRef("pk"), is_synthetic=True)),
        )
        .annotate(
            overdue=Case(
                When(Q(last_inspected__isnull=True) | Q(next_due__lt=today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .defer("geom")  # render it with with_geojson; parsing every line into GEOS is slow
        .order_by("level", "code")
    )
    return boundary_lines_on(lines, on=on) if on else lines


def boundary_line_get(*, code: str, today: datetime.date) -> BoundaryLine:
    """One line as in ``boundary_line_list``, with its GeoJSON rendered in SQL; NotFound if none."""
    line = with_geojson(boundary_line_list(today=today).filter(code=code), "geom").first()
    if line is None:
        retired = BoundaryLine.dated.filter(code=code, valid_to__isnull=False).order_by("-valid_to").first()
        if retired is not None:
            successor = f"; replaced by {retired.replaced_by}" if retired.replaced_by else ""
            raise NotFound(f"boundary line {code} was retired on {retired.valid_to:%Y-%m-%d}{successor}")
        raise NotFound(f"no boundary line with code {code!r}")
    return line


def boundary_line_history(*, line: BoundaryLine, internal: bool = False) -> dict:
    """A line's inspections (newest first, with their marker checks counted by status), markers
    and problems, as plain data for the API and the line page. The findings of inspections and the
    descriptions of problems are internal (reviewers' remarks, survey details): only with
    ``internal`` (signed-in staff); the public sees dates, results, checks and locations."""
    inspections = [
        {
            "date": inspection.date,
            "round": str(inspection.round) if inspection.round else None,
            "round_year": inspection.round.year if inspection.round else None,
            "team": inspection.team.name if inspection.team else None,
            "result": inspection.result,
            "result_display": inspection.get_result_display(),
            "findings": inspection.findings if internal else None,
            "marker_checks": dict(
                inspection.marker_checks.values_list("status").annotate(n=Count("id")).order_by("status")
            ),
            "is_synthetic": inspection.is_synthetic,
        }
        for inspection in line.inspections.select_related("round", "team").order_by("-date")
    ]
    markers = [
        {
            "number": m.number,
            "sequence": m.sequence,
            "marker_type": m.marker_type,
            "type_display": m.get_marker_type_display(),
            "status": m.status,
            "status_display": m.get_status_display(),
            "last_checked": m.last_checked,
            "lon": round(m.geom.x, 6),
            "lat": round(m.geom.y, 6),
            "is_synthetic": m.is_synthetic,
        }
        for m in line.markers.order_by("sequence")
    ]
    problems = [
        {
            "kind": p.kind,
            "kind_display": p.get_kind_display(),
            "status": p.status,
            "reported": p.reported,
            "resolved": p.resolved,
            "description": p.description if internal else None,
            "lon": round(p.point.x, 6),
            "lat": round(p.point.y, 6),
            "is_synthetic": p.is_synthetic,
        }
        for p in line.problems.order_by("-reported")
    ]
    teams = list(line.teams.order_by("name").values_list("name", flat=True))
    return {"inspections": inspections, "markers": markers, "problems": problems, "teams": teams}


def marker_list() -> QuerySet[Marker]:
    """Markers with their line's code (not the line itself: its geometry is large)."""
    return Marker.objects.annotate(line_code=F("line__code")).order_by("line_code", "sequence")


# The lines with what the roll-up counts, then one row per group: {key} and {name} name the group,
# {group} and {order} are its GROUP BY and ORDER BY (fixed fragments, composed once per group below).
SUMMARY_SQL = """
WITH l AS (
    SELECT l.length_m, d.code AS district_code, d.name AS district_name,
           c.slug AS cluster_slug, c.name AS cluster_name, c.sort_order,
           l.last_inspected IS NOT NULL
             AND (l.last_inspected + make_interval(years => %(years)s))::date >= %(today)s AS in_cycle,
           EXISTS (SELECT 1 FROM {problem} p
                    WHERE p.line_id = l.id AND p.status = 'open' AND p.reported <= %(today)s) AS has_open
      FROM {line} l
      JOIN {division} d ON d.id = l.district_id
      JOIN {cluster} c ON c.slug = d.cluster_id
     WHERE l.valid_to IS NULL AND (%(level)s::text IS NULL OR l.level = %(level)s::text)
)
SELECT {key} AS code, {name} AS name, count(*) AS lines, coalesce(sum(length_m), 0) AS length_m,
       count(*) FILTER (WHERE in_cycle) AS inspected_in_cycle, count(*) FILTER (WHERE NOT in_cycle) AS overdue,
       count(*) FILTER (WHERE has_open) AS with_open_problems
  FROM l GROUP BY {group} ORDER BY {order}
"""

SUMMARY_QUERIES = {
    key: sql.compose(
        SUMMARY_SQL,
        key=sql.SQL(column),
        name=sql.SQL(name),
        group=sql.SQL(group),
        order=sql.SQL(order),
        problem=BoundaryProblem,
        line=BoundaryLine,
        division=Division,
        cluster=Cluster,
    )
    for key, (column, name, group, order) in {
        "cluster": ("cluster_slug", "cluster_name", "cluster_slug, cluster_name, sort_order", "sort_order"),
        "district": ("district_code", "district_name", "district_code, district_name", "district_code"),
        "municipality": ("%(municipality_code)s", "%(municipality_name)s", "1, 2", "1"),
    }.items()
}


def inspection_summary(*, group_by: str, today: datetime.date, level: str | None = None) -> dict:
    """Roll-up of the lines by the cluster or district responsible for them (each line counts
    once, so district rows add up to cluster rows and to the municipality total): lines, length
    in metres (geodesic), inspected within the 5-year cycle as of ``today``, overdue, and lines
    with open problems. ``level`` restricts to one line level."""
    if group_by not in ("cluster", "district"):
        raise InvalidParameter("group_by: must be 'cluster' or 'district'")
    params = {
        "years": INSPECTION_CYCLE_YEARS,
        "today": today,
        "level": level,
        "municipality_code": MUNICIPALITY_CODE,
        "municipality_name": MUNICIPALITY_NAME,
    }
    result = {key: sql.rows(SUMMARY_QUERIES[key], params) for key in (group_by, "municipality")}
    empty = dict.fromkeys(("lines", "length_m", "inspected_in_cycle", "overdue", "with_open_problems"), 0)
    total = (
        result["municipality"][0]
        if result["municipality"]
        else {"code": MUNICIPALITY_CODE, "name": MUNICIPALITY_NAME, **empty}
    )
    for row in [*result[group_by], total]:
        row["length_m"] = round(row["length_m"], 1)
    return {"group_by": group_by, "date": today, "level": level, "rows": result[group_by], "total": total}


def district_by_code(*, code: str) -> Division:
    """The district or county with a 6-digit code; InvalidParameter names the code if none."""
    district = Division.objects.filter(code=code, level=Division.Level.DISTRICT).first()
    if district is None:
        raise InvalidParameter(f"district: no district/county with code {code[:12]!r}")
    return district


def cluster_check(*, slug: str) -> str:
    """``slug`` if it names a cluster; InvalidParameter otherwise."""
    if not Cluster.objects.filter(slug=slug).exists():
        raise InvalidParameter(f"cluster: no cluster {slug[:40]!r}")
    return slug


def division_district(*, division: Division) -> Division | None:
    """The district or county a division belongs to (itself for a district; None for the
    municipality). Statistical codes start with their district's six digits, so no walk up the
    tree is needed."""
    if division.level == Division.Level.MUNICIPALITY:
        return None
    if division.level == Division.Level.DISTRICT:
        return division
    return Division.objects.filter(code=division.code[: CODE_DIGITS["district"]], level=Division.Level.DISTRICT).first()
