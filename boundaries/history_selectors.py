"""Reads of the division history (区划调整): the versions in force on a date, a unit's timeline,
successors and changes, the change list and its map, units abolished in a period, the names the
divisions had, and the boundary lines as of a date. Validity is half-open, [valid_from, valid_to);
a None bound is open (see ``boundaries.models``). The undated reads are ``boundaries.selectors``."""

import datetime
import json
import time

from django.contrib.gis.db.models import GeometryField
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from boundaries.history_models import DivisionArea, DivisionChange, DivisionList, DivisionVersion
from boundaries.models import BoundaryLine, Division
from gis_portal.core.api import with_geojson
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter, NotFound


def boundary_lines_on(queryset: QuerySet[BoundaryLine], *, on: datetime.date) -> QuerySet[BoundaryLine]:
    """The lines of ``queryset`` (``BoundaryLine.dated``, with the retired ones) in force on ``on``:
    each side named as the unit that answered for its polygon that day (``left_on_code``/
    ``left_on_name``, the right likewise; a side no longer linked, a retired line's or a
    province's, keeps its own), without the lines inside one unit then (between a unit and the part
    later split from it: the line did not exist yet)."""
    queryset = queryset.filter(_valid_on(on))

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
    it lives on as; for a unit an applied proposal merged into another, its part of that unit's
    polygon; None if its area went into another unit otherwise) and ``geometry_code``."""
    part = DivisionArea.objects.filter(version_id=OuterRef("pk"), geom__isnull=False).values("geom")[:1]
    return (
        DivisionVersion.objects.filter(_valid_on(on))
        .select_related("cluster")
        .annotate(
            shape=Coalesce(
                "geometry_from__geom", "geometry_from__point", Subquery(part), output_field=GeometryField(srid=WGS84)
            ),
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
