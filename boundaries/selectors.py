"""Reads of the divisions and the boundary lines: where a point is (``division_locate``), lists and
single lines for the API and the pages, a line's inspection history, the inspection roll-ups, and
look-ups of a district or cluster by code.

Geometries are EPSG:4326; distances and lengths are geodesic metres (spheroid)."""

import datetime
import io
import json
import time

import numpy as np
from django.contrib.gis.db.models import GeometryField
from django.db import connection, transaction
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
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from boundaries.models import (
    BoundaryLine,
    BoundaryProblem,
    Cluster,
    Division,
    DivisionArea,
    DivisionChange,
    DivisionList,
    DivisionPiece,
    DivisionVersion,
    EstablishmentStandard,
    Inspection,
    Marker,
)
from boundaries.standards import establishment_check
from gis_portal.core import sql
from gis_portal.core.api import with_geojson
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter, NotFound, OutsideRegion
from gis_portal.core.region import CODE_DIGITS, MUNICIPALITY_CODE, MUNICIPALITY_NAME

LOCATE_SQL = sql.compose(
    """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), %(srid)s) AS g),
hit AS (
    SELECT DISTINCT ON (d.level) d.id, d.level, d.code, d.name, d.is_synthetic, d.cluster_id
      FROM {piece} p JOIN {division} d ON d.id = p.division_id, pt
     WHERE p.level IN ('municipality', 'district', 'township') AND ST_Covers(p.geom, pt.g)
     ORDER BY d.level, d.code
)
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
    piece=DivisionPiece,
    division=Division,
    cluster=Cluster,
)


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
    answered for its area then (``DivisionArea``), and the village is the nearest of that
    township's villages then (at their current points); a point in an area no unit of the lists
    answered for (a township that only began later, split from no other) has no township.
    """
    if on is None:
        rows = sql.rows(LOCATE_SQL, {"lon": lon, "lat": lat, "srid": WGS84})
    else:
        rows = sql.rows(LOCATE_ON_SQL, {"lon": lon, "lat": lat, "srid": WGS84, "on": on})
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
    """All divisions with what the API shows, ``shape`` being the polygon or, for villages and
    communities, their point."""
    return (
        Division.objects.select_related("parent", "cluster")
        .annotate(shape=Coalesce("geom", "point", output_field=GeometryField(srid=WGS84)))
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


def boundary_line_list(*, today: datetime.date) -> QuerySet[BoundaryLine]:
    """Lines with ``next_due`` (last inspection + 5 years) and ``overdue`` (never inspected, or
    ``today`` is past ``next_due``) annotated in SQL, the cluster of the responsible district, and
    ``history_is_synthetic`` when the inspection history (hence status and dates) is generated."""
    next_due = YearsLater(F("last_inspected"), Value(INSPECTION_CYCLE_YEARS))
    return (
        BoundaryLine.objects.annotate(
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


def boundary_lines_on(queryset: QuerySet[BoundaryLine], *, on: datetime.date) -> QuerySet[BoundaryLine]:
    """The lines of ``queryset`` as of ``on``: each side named as the unit that answered for its
    polygon that day (``left_on_code``/``left_on_name``, the right likewise; a side outside the
    divisions, a province, keeps its own), without the lines inside one unit then (between a unit
    and the part later split from it: the line did not exist yet)."""

    def side(column: str, field: str) -> Subquery:
        spans = DivisionArea.objects.filter(_valid_on(on), division_id=OuterRef(column))
        return Subquery(spans.values(f"version__{field}")[:1])

    lines = queryset.annotate(
        left_on_id=side("left_division_id", "id"),
        right_on_id=side("right_division_id", "id"),
        left_on_code=Coalesce(side("left_division_id", "code"), F("left_code")),
        left_on_name=Coalesce(side("left_division_id", "name"), F("left_name")),
        right_on_code=Coalesce(side("right_division_id", "code"), F("right_code")),
        right_on_name=Coalesce(side("right_division_id", "name"), F("right_name")),
    )
    inside = Case(
        When(left_on_id=F("right_on_id"), then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    return lines.annotate(inside_one_unit=inside).filter(inside_one_unit=False)


def boundary_line_get(*, code: str, today: datetime.date) -> BoundaryLine:
    """One line as in ``boundary_line_list``, with its GeoJSON rendered in SQL; NotFound if none."""
    line = with_geojson(boundary_line_list(today=today).filter(code=code), "geom").first()
    if line is None:
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
     WHERE %(level)s::text IS NULL OR l.level = %(level)s::text
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


# --- Dated versions (区划调整) -------------------------------------------------------------------
# Validity is half-open, [valid_from, valid_to); a None bound is open. See boundaries.models.


def _valid_on(on: datetime.date, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": on})) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": on})
    )


def township_areas_on(*, on: datetime.date) -> QuerySet[DivisionArea]:
    """Today's township polygons with the version that answered for each on ``on``."""
    return DivisionArea.objects.filter(_valid_on(on), division__level=Division.Level.TOWNSHIP).select_related("version")


HISTORY_RANGE_SECONDS = 60  # how long a process trusts the lists' dates it read (re-imports are rare)
_history_range: dict = {}


def division_history_range() -> tuple[datetime.date, datetime.date] | None:
    """The dates of the earliest and the latest imported list, or None if no history is loaded.
    Read at most once a minute per process: every dated request checks its date against it."""
    now = time.monotonic()
    if _history_range.get("until", 0) < now:
        dates = list(DivisionList.objects.order_by("as_of").values_list("as_of", flat=True))
        _history_range.update(value=(dates[0], dates[-1]) if dates else None, until=now + HISTORY_RANGE_SECONDS)
    return _history_range["value"]


def division_history_range_forget() -> None:
    """Let this process read the lists' dates again (after an import)."""
    _history_range.clear()


def division_date_parse(*, raw: str | None, name: str = "date") -> datetime.date | None:
    """The ``date`` query parameter (YYYY-MM-DD): None when absent or empty (the current state);
    InvalidParameter naming the valid range when malformed, before the earliest list, or when no
    history is loaded."""
    if raw in (None, ""):
        return None
    history = division_history_range()
    valid = f"a date YYYY-MM-DD from {history[0]} on" if history else "no division history is loaded"
    try:
        on = datetime.date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name}: {str(raw)[:20]!r} is not a date; valid: {valid}") from None
    if len(raw) != 10 or history is None or on < history[0]:
        raise InvalidParameter(f"{name}: {on} is out of range; valid: {valid}")
    return on


def division_versions_on(*, on: datetime.date) -> QuerySet[DivisionVersion]:
    """Every version in force on ``on``, with ``shape`` (the polygon or point of the current unit
    it lives on as, None if its area went into another unit) and ``geometry_code``."""
    return (
        DivisionVersion.objects.filter(_valid_on(on))
        .select_related("cluster")
        .annotate(
            shape=Coalesce("geometry_from__geom", "geometry_from__point", output_field=GeometryField(srid=WGS84)),
            geometry_code=F("geometry_from__code"),
        )
        .order_by("code")
    )


def _version_ref(version: DivisionVersion) -> dict:
    return {
        "code": version.code,
        "name": version.name,
        "level": version.level,
        "valid_from": version.valid_from,
        "valid_to": version.valid_to,
    }


def division_version_bounds(version: DivisionVersion) -> dict:
    """A version's validity for the API and the pages, each bound exact or an interval."""

    def bound(day, after):
        if day is None:
            return None
        return {"date": day, "exact": after is None, "after": after}

    return {
        "valid_from": bound(version.valid_from, version.valid_from_after),
        "valid_to": bound(version.valid_to, version.valid_to_after),
    }


def division_timeline(*, code: str) -> list[dict]:
    """The changes of a unit, oldest first: every event into or out of any version of its lineage
    (the versions that share its polygon or point, or that carried this code), with the other side."""
    versions = list(DivisionVersion.objects.filter(code=code))
    geometry_ids = {v.geometry_from_id for v in versions if v.geometry_from_id}
    ids = {v.id for v in versions} | set(
        DivisionVersion.objects.filter(geometry_from_id__in=geometry_ids).values_list("id", flat=True)
    )
    changes = (
        DivisionChange.objects.filter(Q(before_id__in=ids) | Q(after_id__in=ids))
        .select_related("before", "after")
        .order_by("changed_by", "id")
    )
    return [division_change_row(change) for change in changes]


def division_change_steps() -> list[dict]:
    """The steps between consecutive lists, oldest first: {changed_after, changed_by, changes,
    townships} (townships: the changes at township level)."""
    return list(
        DivisionChange.objects.values("changed_after", "changed_by")
        .annotate(changes=Count("id"), townships=Count("id", filter=Q(level=Division.Level.TOWNSHIP)))
        .order_by("changed_by")
    )


def division_change_row(change: DivisionChange) -> dict:
    """One change as plain data (API, CSV, pages)."""
    before, after = change.before, change.after
    return {
        "id": change.id,
        "type": change.type,
        "type_display": str(change.get_type_display()),
        "level": change.level,
        "district_code": change.district_code,
        "before_code": before.code if before else None,
        "before_name": before.name if before else None,
        "after_code": after.code if after else None,
        "after_name": after.name if after else None,
        "changed_after": change.changed_after,
        "changed_by": change.changed_by,
        "effective_date": change.effective_date,
        "date_exact": change.effective_date is not None,
        "inferred": change.inferred,
        "review": change.review,
        "evidence": change.evidence,
    }


def division_change_list(
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    district: str | None = None,
    types: list[str] | None = None,
    level: str | None = None,
) -> QuerySet[DivisionChange]:
    """Changes whose interval meets [since, until] (an event known to lie after ``changed_after``
    and on or before ``changed_by``; its ``effective_date`` once confirmed), of a district, types
    or level, oldest first."""
    changes = DivisionChange.objects.select_related("before", "after")
    if since is not None:
        changes = changes.filter(Q(effective_date__gte=since) | Q(effective_date__isnull=True, changed_by__gte=since))
    if until is not None:
        changes = changes.filter(Q(effective_date__lte=until) | Q(effective_date__isnull=True, changed_after__lt=until))
    if district:
        changes = changes.filter(district_code=district)
    if types:
        changes = changes.filter(type__in=types)
    if level:
        changes = changes.filter(level=level)
    return changes.order_by("changed_by", "level", "district_code", "before__code", "after__code")


def division_successors(*, version: DivisionVersion) -> list[DivisionVersion]:
    """The versions a version's end led to (the unit's next version, or those it merged into)."""
    return [
        change.after
        for change in version.changes_out.select_related("after").order_by("after__code")
        if change.after is not None and change.type != DivisionChange.Type.SPLIT_FROM
    ]


def division_version_get(*, code: str, on: datetime.date | None = None) -> DivisionVersion:
    """The version of ``code`` in force on ``on`` or, without a date, the current one or else the
    last one (a unit gone: ``valid_to`` set). NotFound if the code was never listed (or not on
    that date)."""
    versions = with_geojson(
        DivisionVersion.objects.filter(code=code).annotate(
            shape=Coalesce("geometry_from__geom", "geometry_from__point", output_field=GeometryField(srid=WGS84)),
            geometry_code=F("geometry_from__code"),
        ),
        "shape",
    )
    if on is not None:
        version = versions.filter(_valid_on(on)).first()
        if version is None:
            raise NotFound(f"no division with code {code!r} on {on}")
        return version
    version = versions.order_by(F("valid_to").desc(nulls_first=True)).first()
    if version is None:
        raise NotFound(f"no division with code {code!r}")
    return version


def divisions_abolished_between(*, start: datetime.date, end: datetime.date) -> list[dict]:
    """Units whose validity ended in [start, end] and whose name stopped being used (abolished,
    merged, renamed, 乡→镇, 镇→街道; not a unit re-coded under the same name, nor a committee whose
    name alone changed), oldest end first. ``valid_to`` is the first day the unit was no
    longer in force (the later bound when only an interval is known); ``successor_codes`` lists the
    codes its end led to (none when abolished outright)."""
    versions = (
        DivisionVersion.objects.filter(valid_to__gte=start, valid_to__lte=end)
        .prefetch_related("changes_out__after")
        .order_by("valid_to", "code")
    )
    answer = []
    for version in versions:
        same_name = any(
            change.after is not None and change.after.standard_name == version.standard_name
            for change in version.changes_out.all()
        )
        if same_name:
            continue  # re-coded or only the committee's name changed: the name goes on
        successors = sorted(
            {
                change.after.code
                for change in version.changes_out.all()
                if change.after is not None and change.type != DivisionChange.Type.SPLIT_FROM
            }
        )
        answer.append(
            {
                "code": version.code,
                "name": version.name,
                "level": version.level,
                "parent_code": version.parent_code,
                "district_code": version.district_code,
                "valid_to": version.valid_to,
                "successor_codes": successors,
            }
        )
    return answer


LOCATE_ON_SQL = sql.compose(
    """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), %(srid)s) AS g),
hit AS (
    SELECT DISTINCT ON (d.level) d.id, d.level, d.code, d.name, d.is_synthetic, d.cluster_id
      FROM {piece} p JOIN {division} d ON d.id = p.division_id, pt
     WHERE p.level IN ('municipality', 'district', 'township') AND ST_Covers(p.geom, pt.g)
     ORDER BY d.level, d.code
),
dated AS (
    SELECT hit.level, coalesce(v.code, hit.code) AS code, coalesce(v.name, hit.name) AS name, hit.is_synthetic,
           hit.cluster_id, v.code AS version_code
      FROM hit
      LEFT JOIN {area} a ON a.division_id = hit.id
            AND (a.valid_from IS NULL OR a.valid_from <= %(on)s) AND (a.valid_to IS NULL OR a.valid_to > %(on)s)
      LEFT JOIN {version} v ON v.id = a.version_id
     WHERE hit.level = 'municipality' OR v.id IS NOT NULL
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
    piece=DivisionPiece,
    division=Division,
    cluster=Cluster,
    area=DivisionArea,
    version=DivisionVersion,
)


def division_name_history() -> tuple[list[dict], dict[int, datetime.date]]:
    """The names today's units bore before (for the gazetteer's former names), and the day each
    current name began where that is after the first list.

    Former names: every ended version whose unit goes on as a current division (re-coded, renamed,
    乡→镇, 镇→街道, ...) or was merged into one, with a standard name other than that division's
    today: ``{division_id, code, name, valid_from, valid_to (exclusive), valid_to_after, type}``.
    Begun: {current division id: the first day of its current standard name}, for names that began
    after the first list (a unit re-coded under the same name keeps its name's start)."""
    versions = list(
        DivisionVersion.objects.filter(geometry_from__isnull=False).order_by(
            "geometry_from_id", F("valid_from").asc(nulls_first=True)
        )
    )
    current = {v.geometry_from_id: v for v in versions if v.valid_to is None}
    formers, begun = [], {}
    by_division: dict[int, list[DivisionVersion]] = {}
    for version in versions:
        by_division.setdefault(version.geometry_from_id, []).append(version)
    for division_id, lineage in by_division.items():
        now = current.get(division_id)
        if now is None:
            continue
        start = now.valid_from
        for version in reversed(lineage[:-1]):
            if version.standard_name != now.standard_name:
                break
            start = version.valid_from
        if start is not None:
            begun[division_id] = start
        for version in lineage[:-1]:
            if version.standard_name != now.standard_name:
                formers.append(_former(version, division_id, "renamed"))
    merged = DivisionChange.objects.filter(
        type=DivisionChange.Type.MERGED_INTO, after__geometry_from__isnull=False
    ).select_related("before", "after")
    for change in merged:
        formers.append(_former(change.before, change.after.geometry_from_id, "merged_into"))
    return formers, begun


def _former(version: DivisionVersion, division_id: int, how: str) -> dict:
    return {
        "division_id": division_id,
        "code": version.code,
        "name": version.standard_name,
        "valid_from": version.valid_from,
        "valid_to": version.valid_to,
        "valid_to_after": version.valid_to_after,
        "type": how,
    }


# --- The impact of a proposed merger of townships (行政区划调整方案: 合并) --------------------------

MERGER_SQL = sql.compose(
    """
WITH units AS (
    SELECT d.id, d.code, d.name, d.geom, d.area_m2, d.is_synthetic,
           (SELECT coalesce(sum(v.population), 0) FROM {division} v WHERE v.parent_id = d.id) AS population,
           (SELECT coalesce(sum(v.elderly_population), 0) FROM {division} v WHERE v.parent_id = d.id) AS elderly,
           (SELECT count(*) FROM {division} v WHERE v.parent_id = d.id) AS villages
      FROM {division} d WHERE d.id = ANY(%(ids)s)
)
SELECT (SELECT json_agg(json_build_object('code', code, 'name', name, 'area_m2', area_m2, 'population', population,
                                          'elderly_population', elderly, 'villages', villages) ORDER BY code)
          FROM units) AS units,
       (SELECT sum(area_m2) FROM units) AS area_m2,
       (SELECT ST_Area(ST_Union(geom)::geography) FROM units) AS union_area_m2,
       (SELECT ST_NumGeometries(ST_Multi(ST_Union(geom))) FROM units) AS parts,
       (SELECT sum(population) FROM units) AS population,
       (SELECT sum(elderly) FROM units) AS elderly_population,
       (SELECT sum(villages) FROM units) AS villages,
       (SELECT bool_or(is_synthetic) FROM units) AS is_synthetic
""",
    division=Division,
)


def merger_impact(*, codes: list[str], today: datetime.date, unit: str | None = None) -> dict:
    """What merging these townships of one district would do, before anything is decided: the
    units and their sums (area in m², geodesic; population and aged 60+ as the sums of their
    villages'), the township lines retired (between two of them) and joined (the lines to each
    outside neighbour become one, lengths in metres), with their inspection dates, and the place
    names that would change. InvalidParameter names why a merger is refused: fewer than two
    townships, unknown codes, across districts (that needs a district-level change), or units that
    do not touch (the merged unit would be in pieces). With ``unit`` (town or street), the check
    against that unit's establishment standards, with the figures the service does not hold listed
    as missing (to be stated in the proposal)."""
    codes = sorted(set(codes))
    if len(codes) < 2:
        raise InvalidParameter("codes: a merger needs at least two townships")
    units = list(
        Division.objects.filter(code__in=codes, level=Division.Level.TOWNSHIP).values("id", "code", "parent_id")
    )
    unknown = sorted(set(codes) - {u["code"] for u in units})
    if unknown:
        raise InvalidParameter(f"codes: no current township {', '.join(unknown)}")
    if len({u["parent_id"] for u in units}) > 1:
        raise InvalidParameter(
            "codes: the townships lie in different districts; a merger across districts needs a district-level change"
        )
    figures = sql.row(MERGER_SQL, {"ids": [u["id"] for u in units]})
    if figures["parts"] != 1:
        raise InvalidParameter(
            f"codes: the townships do not form one area (the merged unit would have {figures['parts']} parts)"
        )
    ids = [u["id"] for u in units]
    lines = (
        boundary_line_list(today=datetime.date.today())
        .filter(level=BoundaryLine.Level.TOWNSHIP)
        .filter(Q(left_division_id__in=ids) | Q(right_division_id__in=ids))
    )
    retired, joined = [], {}
    for line in lines.order_by("code"):
        inside = {line.left_division_id, line.right_division_id} <= set(ids)
        entry = {
            "code": line.code,
            "name": line.name,
            "length_m": round(line.length_m, 1),
            "last_inspected": line.last_inspected,
            "overdue": line.overdue,
            "status": line.status,
        }
        if inside:
            retired.append(entry)
            continue
        outside = line.right_code if line.left_division_id in ids else line.left_code
        outside_name = line.right_name if line.left_division_id in ids else line.left_name
        group = joined.setdefault(outside, {"neighbour_code": outside, "neighbour_name": outside_name, "lines": []})
        group["lines"].append(entry)
    for group in joined.values():
        group["length_m"] = round(sum(item["length_m"] for item in group["lines"]), 1)
    population = int(figures["population"])
    standards = None
    if unit is not None:
        criteria = EstablishmentStandard.objects.filter(unit=unit).values(
            "group", "figure", "figure_label", "comparison", "threshold", "source"
        )
        standards = establishment_check(criteria=list(criteria), figures={"total_population": population})
    return {
        "standards": standards,
        "units": figures["units"],
        "area_m2": round(figures["area_m2"], 1),
        "union_area_m2": round(figures["union_area_m2"], 1),
        "population": population,
        "elderly_population": int(figures["elderly_population"]),
        "villages": int(figures["villages"]),
        "is_synthetic": figures["is_synthetic"],
        "lines_retired": retired,
        "lines_joined": [joined[key] for key in sorted(joined)],
        "names_that_change": [{"code": u["code"], "name": u["name"]} for u in figures["units"]],
    }


CHANGE_SHAPE_SIMPLIFY_M = 50


def division_change_shapes(*, changes: list[dict]) -> dict:
    """A GeoJSON FeatureCollection of the current polygons the changes (rows of
    ``division_change_row``) concern, for their map: the unit after a change, or the unit before
    it where nothing came after, as the polygon it lives on as today (simplified to about 50 m);
    units without a polygon of their own are left out."""
    wanted = {}
    for row in changes:
        code = row["after_code"] or row["before_code"]
        wanted.setdefault(code, row)
    versions = with_geojson(
        DivisionVersion.objects.filter(code__in=wanted, geometry_from__geom__isnull=False).annotate(
            shape=F("geometry_from__geom")
        ),
        "shape",
        simplify_m=CHANGE_SHAPE_SIMPLIFY_M,
    ).order_by("code", F("valid_from").desc(nulls_last=True))
    features, seen = [], set()
    for version in versions:
        if version.code in seen:
            continue
        seen.add(version.code)
        row = wanted[version.code]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(version.geojson),
                "properties": {
                    "code": version.code,
                    "name": version.name,
                    "type": row["type"],
                    "type_display": row["type_display"],
                    "is_synthetic": version.is_synthetic,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- batch locate ---------------------------------------------------------------------------------

# Each point's municipality and township (on a shared edge, or a cut between two pieces, the lower
# code), in one pass: the pieces are the outer side and probe the points' GiST index, so each piece
# tests all the points in its box in a row (PostGIS prepares the piece's polygon once). Townships
# tile their district, so the district is the township's (the district pieces, tested only for a
# point in the municipality but in no township, answered the same for 100,000 random points).
LOCATE_BATCH_SQL = """
SELECT pts.n,
       min(d.code) FILTER (WHERE p.level = 'municipality') AS municipality,
       min(d.code) FILTER (WHERE p.level = 'township') AS township
  FROM {piece} p JOIN pg_temp.locate_batch pts ON ST_Covers(p.geom, pts.g)
  JOIN {division} d ON d.id = p.division_id
 WHERE p.level IN ('municipality', 'township')
 GROUP BY pts.n
"""
LOCATE_BATCH_DISTRICT_SQL = """
SELECT pts.n, min(d.code) AS district
  FROM pg_temp.locate_batch pts JOIN {piece} p ON ST_Covers(p.geom, pts.g) JOIN {division} d ON d.id = p.division_id
 WHERE p.level = 'district' AND pts.n = ANY(%(ns)s)
 GROUP BY pts.n
"""
LOCATE_BATCH_DIVISIONS_SQL = """
SELECT d.id, d.code, d.name, d.level, d.parent_id, d.cluster_id, c.name AS cluster_name,
       ST_X(d.point) AS lon, ST_Y(d.point) AS lat
  FROM {division} d LEFT JOIN {cluster} c ON c.slug = d.cluster_id
 WHERE d.level IN ('municipality', 'district', 'township') OR (d.level = 'village' AND d.point IS NOT NULL)
"""
# A row of the binary COPY: field count, then each field's length and value (big-endian).
COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("n_len", ">i4"),
        ("n", ">i4"),
        ("lon_len", ">i4"),
        ("lon", ">f8"),
        ("lat_len", ">i4"),
        ("lat", ">f8"),
    ]
)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
LOCATE_BATCH_FIELDS = (
    "municipality_code", "municipality_name", "cluster_code", "cluster_name", "district_code", "district_name",
    "township_code", "township_name", "village_code", "village_name",
)  # fmt: skip


def division_locate_batch(*, lon: np.ndarray, lat: np.ndarray) -> list[tuple | None]:
    """``division_locate`` for many WGS84 points at once: for each, a tuple of
    LOCATE_BATCH_FIELDS, or None when the point is outside Chongqing (rows stay in order).

    The points are COPYed into a temporary table with a GiST index and joined to the division
    pieces in one SQL pass (same rule as ``division_locate``: ST_Covers, the lower code on a shared
    edge). The village/community is the nearest of the township's by the same planar order as
    ``division_locate``'s KNN, computed with numpy on the few villages of each township: a KNN
    query per point costs about 40 µs, four seconds for 100,000 points."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    count = len(lon)
    if count == 0:
        return []
    # COPY in PostgreSQL's binary format, built by numpy: no per-point Python.
    rows = np.empty(count, dtype=COPY_ROW)
    rows["fields"], rows["n_len"], rows["n"] = 3, 4, np.arange(count)
    rows["lon_len"], rows["lon"], rows["lat_len"], rows["lat"] = 8, lon, 8, lat
    data = io.BytesIO(COPY_HEADER + rows.tobytes() + COPY_TRAILER)
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropped at the end too: inside an outer transaction ON COMMIT comes later.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.locate_batch_in, pg_temp.locate_batch")
        cursor.execute("CREATE TEMP TABLE locate_batch_in (n integer, lon float8, lat float8) ON COMMIT DROP")
        cursor.cursor.copy_expert("COPY pg_temp.locate_batch_in (n, lon, lat) FROM STDIN WITH (FORMAT binary)", data)
        cursor.execute(
            "CREATE TEMP TABLE locate_batch ON COMMIT DROP AS"
            " SELECT n, ST_SetSRID(ST_MakePoint(lon, lat), %s) AS g FROM pg_temp.locate_batch_in",
            [WGS84],
        )
        cursor.execute("CREATE INDEX ON pg_temp.locate_batch USING gist (g)")
        cursor.execute("ANALYZE pg_temp.locate_batch")
        cursor.execute("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql.compose(LOCATE_BATCH_SQL, piece=DivisionPiece, division=Division))
        hits = cursor.fetchall()
        no_township = [n for n, municipality, township in hits if municipality is not None and township is None]
        districts_of = {}
        if no_township:
            cursor.execute(
                sql.compose(LOCATE_BATCH_DISTRICT_SQL, piece=DivisionPiece, division=Division), {"ns": no_township}
            )
            districts_of = dict(cursor.fetchall())
        cursor.execute("DROP TABLE pg_temp.locate_batch_in, pg_temp.locate_batch")
    divisions = sql.rows(sql.compose(LOCATE_BATCH_DIVISIONS_SQL, division=Division, cluster=Cluster))
    by_code = {d["code"]: d for d in divisions if d["level"] != "village"}
    by_id = {d["id"]: d for d in divisions if d["level"] != "village"}
    township_index = {d["id"]: i for i, d in enumerate(d for d in divisions if d["level"] == "township")}
    answers: list[tuple | None] = [None] * count
    township_of = np.full(count, -1)
    prefixes: dict[tuple, tuple] = {}  # one shared tuple per (municipality, township, district)
    no_village = (None, None)
    for n, municipality, township in hits:
        if municipality is None:
            continue
        key = (municipality, township, districts_of.get(n))
        prefix = prefixes.get(key)
        if prefix is None:
            m, t = by_code[municipality], by_code.get(township)
            d = by_id.get(t["parent_id"]) if t is not None else by_code.get(key[2])
            prefix = prefixes[key] = (
                m["code"], m["name"],
                d and d["cluster_id"], d and d["cluster_name"],
                d and d["code"], d and d["name"],
                t and t["code"], t and t["name"],
            )  # fmt: skip
        answers[n] = prefix + no_village
        if township is not None:
            township_of[n] = township_index[by_code[township]["id"]]
    # The nearest village of each point's township (planar, as ``<->``), township by township.
    villages = [d for d in divisions if d["level"] == "village" and d["parent_id"] in township_index]
    villages.sort(key=lambda v: (township_index[v["parent_id"]], v["code"]))
    v_township = np.array([township_index[v["parent_id"]] for v in villages], dtype=int)
    v_xy = np.array([(v["lon"], v["lat"]) for v in villages], dtype=float).reshape(-1, 2)
    starts = np.searchsorted(v_township, np.arange(len(township_index) + 1))
    located = np.flatnonzero(township_of >= 0)
    order = located[np.argsort(township_of[located], kind="stable")]
    bounds = np.searchsorted(township_of[order], np.arange(len(township_index) + 1))
    for t in np.flatnonzero(np.diff(bounds)):
        first, last = starts[t], starts[t + 1]
        if first == last:
            continue
        members = order[bounds[t] : bounds[t + 1]]
        dx = lon[members, None] - v_xy[None, first:last, 0]
        dy = lat[members, None] - v_xy[None, first:last, 1]
        nearest = first + np.argmin(dx * dx + dy * dy, axis=1)
        pairs = [(v["code"], v["name"]) for v in villages[first:last]]
        for n, v in zip(members.tolist(), (nearest - first).tolist(), strict=True):
            answers[n] = answers[n][:8] + pairs[v]
    return answers
