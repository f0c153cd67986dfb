"""Writes of the division history (区划调整): importing the yearly lists into dated versions and
their change events, and the staff's review of an inferred link.

The events come from ``boundaries.division_changes`` (pure, tested against the real lists); this
module only stores them. A version's bounds are the later list's date, with the earlier one kept as
"only known to lie after" until staff confirm the day. ``DivisionArea`` says which version answers
for each current polygon on a date: a re-coded or renamed unit keeps its polygon (it is the same
unit); a unit whose area went into another keeps none of its own; before a unit split from
another existed, its area answers as that other.

Every entry point runs in one transaction; the import replaces the history whole (running it twice
gives the same rows), keeping the staff's reviews of links that are derived again."""

import datetime
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from boundaries.division_changes import (
    CHONGQING_SNAPSHOTS,
    DivisionChangeStep,
    DivisionSnapshot,
    DivisionUnit,
    division_changes_apply,
    division_changes_derive,
    division_snapshot_read,
)
from boundaries.history_models import DivisionArea, DivisionChange, DivisionList, DivisionVersion
from boundaries.history_selectors import division_history_range_forget
from boundaries.models import Division
from gis_portal.core import sql
from gis_portal.core.errors import InvalidData, InvalidParameter

logger = logging.getLogger(__name__)

FIXTURES = Path(settings.BASE_DIR) / "fixtures" / "chongqing"
# The npm package version each list comes from (fixtures/chongqing/SOURCES.md).
CHONGQING_LIST_SOURCES = {
    datetime.date(2019, 10, 31): "china-division 2.3.1 (2019 statistical division codes)",
    datetime.date(2020, 6, 30): "china-division 2.4.0 (2020 statistical division codes)",
    datetime.date(2021, 10, 31): "china-division 2.5.0 (2021 statistical division codes)",
    datetime.date(2022, 10, 31): "china-division 2.6.0 (2022 statistical division codes)",
    datetime.date(2023, 6, 30): "china-division 2.7.0 (2023 statistical division codes)",
}

# Changes after which the unit goes on as the ``after`` version (same unit, new code, name or kind):
# it keeps its polygon or point. The others (merged, abolished) leave it without one.
SAME_UNIT = {
    DivisionChange.Type.RENAMED,
    DivisionChange.Type.OFFICIAL_NAME_CHANGED,
    DivisionChange.Type.RECODED,
    DivisionChange.Type.REPARENTED,
    DivisionChange.Type.TOWNSHIP_TO_TOWN,
    DivisionChange.Type.TOWN_TO_STREET,
    DivisionChange.Type.TOWNSHIP_TO_STREET,
    DivisionChange.Type.VILLAGE_TO_COMMUNITY,
}


@dataclass(frozen=True)
class DivisionListFile:
    as_of: datetime.date
    path: Path
    source: str


def chongqing_list_files() -> list[DivisionListFile]:
    """The five yearly lists in fixtures/chongqing, oldest first."""
    return [
        DivisionListFile(as_of=as_of, path=FIXTURES / path, source=CHONGQING_LIST_SOURCES[as_of])
        for as_of, path in CHONGQING_SNAPSHOTS
    ]


@dataclass
class HistoryReport:
    lists: int = 0
    versions: int = 0
    changes: Counter = field(default_factory=Counter)
    areas: int = 0
    reviews_kept: int = 0

    def __str__(self) -> str:
        kinds = ", ".join(f"{key} {n}" for key, n in sorted(self.changes.items()))
        return (
            f"{self.lists} lists, {self.versions} versions, {sum(self.changes.values())} changes ({kinds}), "
            f"{self.areas} area spans, {self.reviews_kept} staff reviews kept"
        )


@dataclass
class _Version:
    unit: DivisionUnit
    source: str
    valid_from: datetime.date | None = None
    valid_from_after: datetime.date | None = None
    valid_to: datetime.date | None = None
    valid_to_after: datetime.date | None = None
    successor: "_Version | None" = None  # the same unit later (SAME_UNIT change)
    row: DivisionVersion | None = None


def _snapshots_read(files: Sequence[DivisionListFile]) -> tuple[list[DivisionSnapshot], list[DivisionChangeStep]]:
    """The lists and the steps between them; InvalidData if a list cannot be read or its events do
    not replay into the next list exactly."""
    if len(files) < 2:
        raise InvalidData("the history needs at least two lists")
    for first, second in pairwise(files):
        if first.as_of >= second.as_of:
            raise InvalidData(f"lists out of order: {first.as_of} is not before {second.as_of}")
    try:
        snapshots = [division_snapshot_read(path=f.path, as_of=f.as_of) for f in files]
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InvalidData(f"cannot read a division list: {exc}") from exc
    steps = []
    for before, after in pairwise(snapshots):
        try:
            step = division_changes_derive(before=before, after=after)
            replayed = division_changes_apply(before=before, step=step)
        except ValueError as exc:
            raise InvalidData(f"list of {after.as_of}: {exc}") from exc
        if replayed != after:
            raise InvalidData(f"the events from {before.as_of} do not give the list of {after.as_of}")
        steps.append(step)
    return snapshots, steps


def _latest_matches_divisions(latest: DivisionSnapshot) -> None:
    """The latest list must be the current state: the same codes, names and parents as Division."""
    current = {
        code: (name, level, parent)
        for code, name, level, parent in Division.objects.exclude(level=Division.Level.MUNICIPALITY).values_list(
            "code", "name", "level", "parent__code"
        )
    }
    listed = {u.code: (u.name, u.level, u.parent_code) for u in latest.units}
    differing = sorted(code for code in current.keys() | listed.keys() if current.get(code) != listed.get(code))
    if differing:
        raise InvalidData(
            f"the latest list ({latest.as_of}) differs from the divisions in the database at "
            f"{len(differing)} codes, e.g. {', '.join(differing[:5])}: import it first (import_divisions)"
        )


def _versions_build(
    snapshots: list[DivisionSnapshot], steps: list[DivisionChangeStep], sources: list[str]
) -> tuple[list[_Version], list[tuple]]:
    """Every version, and each event as (event, before version, after version)."""
    versions: list[_Version] = []
    open_: dict[str, _Version] = {}
    for unit in snapshots[0].units:
        open_[unit.code] = version = _Version(unit=unit, source=sources[0])
        versions.append(version)
    links = []
    for index, step in enumerate(steps, start=1):
        ended: dict[str, _Version] = {}
        for change in step.changes:
            if change.before is not None and change.before.code not in ended:
                version = open_[change.before.code]
                if change.before_ends:
                    version.valid_to, version.valid_to_after = step.changed_by, step.changed_after
                    ended[change.before.code] = open_.pop(change.before.code)
        for change in step.changes:
            if change.after is not None and change.after.code not in open_:
                open_[change.after.code] = version = _Version(
                    unit=change.after,
                    source=sources[index],
                    valid_from=step.changed_by,
                    valid_from_after=step.changed_after,
                )
                versions.append(version)
        for change in step.changes:
            before = None
            if change.before is not None:
                before = ended.get(change.before.code) or open_[change.before.code]
            after = open_[change.after.code] if change.after is not None else None
            if change.type in SAME_UNIT:
                before.successor = after
            links.append((change, before, after))
    return versions, links


def _version_geometry(version: _Version, current: dict[str, Division]) -> Division | None:
    """The current division whose polygon or point is this version's area, following the unit."""
    while version.successor is not None:
        version = version.successor
    return current.get(version.unit.code) if version.valid_to is None else None


def _review_key(before, after, changed_by: datetime.date) -> str:
    return f"{before.code if before else ''}|{after.code if after else ''}|{changed_by}"


def _reviews_saved() -> dict[str, dict]:
    """The staff's reviews, by the link as derived, to be put back after a re-import (with the
    sides they corrected it to, by code)."""
    saved = {}
    for change in DivisionChange.objects.exclude(review=DivisionChange.Review.INFERRED).select_related(
        "before", "after"
    ):
        saved[change.derived_key] = {
            "before": change.before.code if change.before else None,
            "after": change.after.code if change.after else None,
            "type": change.type,
            "effective_date": change.effective_date,
            "inferred": change.inferred,
            "review": change.review,
            "reviewed_by_id": change.reviewed_by_id,
            "reviewed_at": change.reviewed_at,
            "note": change.note,
        }
    return saved


@transaction.atomic
def division_history_import(*, files: Sequence[DivisionListFile]) -> HistoryReport:
    """Import the yearly lists (oldest first; the last must be the current state in Division) as
    dated versions, their change events and the area spans. Replaces the history whole; staff
    reviews of links derived again are kept. InvalidData (nothing written) if a list is bad."""
    snapshots, steps = _snapshots_read(files)
    _latest_matches_divisions(snapshots[-1])
    reviews = _reviews_saved()
    DivisionArea.objects.all().delete()
    DivisionChange.objects.all().delete()
    DivisionVersion.objects.all().delete()
    DivisionList.objects.all().delete()

    report = HistoryReport()
    for f, snapshot in zip(files, snapshots, strict=True):
        levels = Counter(unit.level for unit in snapshot.units)
        DivisionList.objects.create(
            as_of=f.as_of,
            source=f.source,
            districts=levels["district"],
            townships=levels["township"],
            villages=levels["village"],
        )
    report.lists = len(files)

    versions, links = _versions_build(snapshots, steps, [f.source for f in files])
    current = {d.code: d for d in Division.objects.exclude(level=Division.Level.MUNICIPALITY)}
    cluster_of = {code: d.cluster_id for code, d in current.items() if d.level == Division.Level.DISTRICT}
    rows = []
    for version in versions:
        unit = version.unit
        geometry = _version_geometry(version, current)
        version.row = DivisionVersion(
            code=unit.code,
            name=unit.name,
            standard_name=unit.standard_name,
            level=unit.level,
            kind=unit.kind,
            parent_code=unit.parent_code,
            district_code=unit.code[:6],
            cluster_id=cluster_of.get(unit.code[:6]),
            valid_from=version.valid_from,
            valid_from_after=version.valid_from_after,
            valid_to=version.valid_to,
            valid_to_after=version.valid_to_after,
            division=current[unit.code] if version.valid_to is None else None,
            geometry_from=geometry,
            is_synthetic=bool(geometry and geometry.is_synthetic),
            source=version.source,
        )
        rows.append(version.row)
    DivisionVersion.objects.bulk_create(rows, batch_size=2000)
    report.versions = len(rows)

    changes = []
    for change, before, after in links:
        row = DivisionChange(
            type=str(change.type),
            level=change.level,
            before=before.row if before else None,
            after=after.row if after else None,
            district_code=(change.after or change.before).code[:6],
            changed_after=change.changed_after,
            changed_by=change.changed_by,
            inferred=change.inferred,
            evidence=change.evidence,
        )
        row.derived_key = _review_key(change.before, change.after, change.changed_by)
        if row.derived_key in reviews:
            review = dict(reviews[row.derived_key])
            row.before = _version_find(review.pop("before"), change.changed_after, rows)
            row.after = _version_find(review.pop("after"), change.changed_by, rows)
            for name, value in review.items():
                setattr(row, name, value)
            report.reviews_kept += 1
        changes.append(row)
        report.changes[str(change.type)] += 1
    DivisionChange.objects.bulk_create(changes, batch_size=2000)
    if report.reviews_kept:
        division_geometry_relink()
    for change in changes:
        if change.effective_date is not None:
            _effective_date_apply(change)
    report.areas = division_areas_rebuild()
    # Fresh statistics, or the planner guesses the dated look-ups' joins badly.
    sql.execute(
        sql.compose(
            "ANALYZE {version}; ANALYZE {change}; ANALYZE {area}",
            version=DivisionVersion,
            change=DivisionChange,
            area=DivisionArea,
        )
    )
    transaction.on_commit(division_history_range_forget)
    logger.info("division history imported: %s", report)
    return report


def _version_find(code: str | None, on: datetime.date, rows: list[DivisionVersion]) -> DivisionVersion | None:
    """The imported version of ``code`` in force on ``on`` (a reviewed link's side: the earlier list's
    date for the unit before, the later one's for the unit after), else its first version."""
    if code is None:
        return None
    versions = [version for version in rows if version.code == code]
    for version in versions:
        if (version.valid_from is None or version.valid_from <= on) and (
            version.valid_to is None or version.valid_to > on
        ):
            return version
    return versions[0] if versions else None


def division_geometry_relink() -> int:
    """Recompute which current division each version lives on as (``geometry_from``), following
    the links that carry a unit on (SAME_UNIT types) as they stand, corrections included; return
    the number of versions whose link changed."""
    successor = dict(
        DivisionChange.objects.filter(type__in=SAME_UNIT, before__isnull=False, after__isnull=False).values_list(
            "before_id", "after_id"
        )
    )
    versions = {v.id: v for v in DivisionVersion.objects.select_related("geometry_from")}
    current = {d.code: d for d in Division.objects.exclude(level=Division.Level.MUNICIPALITY)}
    changed = []
    for version in versions.values():
        last, seen = version, set()
        while last.id in successor and last.id not in seen:
            seen.add(last.id)
            last = versions[successor[last.id]]
        geometry = current.get(last.code) if last.valid_to is None else None
        if version.geometry_from_id != (geometry.id if geometry else None):
            version.geometry_from = geometry
            version.is_synthetic = bool(geometry and geometry.is_synthetic)
            changed.append(version)
    DivisionVersion.objects.bulk_update(changed, ["geometry_from", "is_synthetic"], batch_size=2000)
    return len(changed)


def _effective_date_apply(change: DivisionChange) -> None:
    """Put a confirmed day on the versions a change ends and begins."""
    day = change.effective_date
    ends = change.before is not None and change.type != DivisionChange.Type.SPLIT_FROM
    if ends and change.before.valid_to is not None:
        DivisionVersion.objects.filter(pk=change.before_id).update(valid_to=day, valid_to_after=None)
    if change.after is not None and change.after.valid_from == change.changed_by:
        DivisionVersion.objects.filter(pk=change.after_id).update(valid_from=day, valid_from_after=None)


def division_areas_rebuild() -> int:
    """Recompute which version answers for each current polygon (district, township) on each date;
    return the number of spans. A polygon's own unit answers while it exists (under any of its
    codes and names); before a unit split from another existed, the other answers for its area; before
    a new unit that others merged into existed, the first of those (by code) answers for it. Spans
    that answer for a part of a polygon (``geom``: the units an applied proposal merged, which the
    lists cannot say) are kept as they are, and answer for that polygon before its unit began; a
    version that answers for a part of a polygon (a township's old polygon, before villages moved
    to it) gets no span of all of it."""
    DivisionArea.objects.filter(geom__isnull=True).delete()
    part_spans = set(DivisionArea.objects.filter(geom__isnull=False).values_list("division_id", "version_id"))
    with_parts = {division_id for division_id, _version_id in part_spans}
    lineage: dict[int, list[DivisionVersion]] = defaultdict(list)
    for version in DivisionVersion.objects.filter(
        geometry_from__isnull=False, level__in=[Division.Level.DISTRICT, Division.Level.TOWNSHIP]
    ).order_by(F("valid_from").asc(nulls_first=True)):
        lineage[version.geometry_from_id].append(version)
    split_source = dict(
        DivisionChange.objects.filter(type=DivisionChange.Type.SPLIT_FROM, before__isnull=False)
        .order_by("after_id", "before__code")
        .values_list("after_id", "before__geometry_from_id")
        .distinct()
    )
    merged_source: dict[int, list[DivisionVersion]] = {}
    for change in (
        DivisionChange.objects.filter(type=DivisionChange.Type.MERGED_INTO, after__isnull=False)
        .select_related("before")
        .order_by("before__code")
    ):
        merged_source.setdefault(change.after_id, [change.before])
    with_polygon = set(
        Division.objects.filter(
            geom__isnull=False, level__in=[Division.Level.DISTRICT, Division.Level.TOWNSHIP]
        ).values_list("id", flat=True)
    )
    spans = []
    for division_id, versions in lineage.items():
        if division_id not in with_polygon:
            continue
        spans += [
            DivisionArea(division_id=division_id, version=v, valid_from=v.valid_from, valid_to=v.valid_to)
            for v in versions
            if (division_id, v.id) not in part_spans
        ]
        began = versions[0].valid_from
        source = split_source.get(versions[0].id)
        if began is not None and source is not None:
            before = lineage.get(source, [])
        elif began is not None and division_id not in with_parts:
            # A new unit that others merged into (no split): the first of them answered for its area.
            before = merged_source.get(versions[0].id, [])
        else:
            before = []
        if began is not None:
            for v in before:
                if (division_id, v.id) in part_spans:
                    continue
                if v.valid_from is None or v.valid_from < began:
                    end = began if v.valid_to is None or v.valid_to > began else v.valid_to
                    spans.append(
                        DivisionArea(division_id=division_id, version=v, valid_from=v.valid_from, valid_to=end)
                    )
    DivisionArea.objects.bulk_create(spans, batch_size=2000)
    return len(spans)


@transaction.atomic
def division_change_review(
    *,
    change: DivisionChange,
    user,
    confirm: bool,
    effective_date: datetime.date | None = None,
    note: str = "",
) -> DivisionChange:
    """A staff member confirms an inferred link (``confirm``) or records that they corrected it
    (its type or sides edited), optionally with the day it took effect, which must lie after
    ``changed_after`` and on or before ``changed_by``. The day is put on the versions the change
    ends and begins, and on the villages' events that moved with a township in the same step."""
    if effective_date is not None and not (change.changed_after < effective_date <= change.changed_by):
        raise InvalidParameter(
            f"effective_date: must lie after {change.changed_after} and on or before {change.changed_by}"
        )
    change.review = DivisionChange.Review.CONFIRMED if confirm else DivisionChange.Review.CORRECTED
    change.inferred = False
    change.reviewed_by = user
    change.reviewed_at = timezone.now()
    change.effective_date = effective_date
    if note:
        change.note = note
    change.save()
    if not confirm:
        division_geometry_relink()  # a corrected link may carry another unit on, or none
    if effective_date is not None:
        _effective_date_apply(change)
        if change.level == Division.Level.TOWNSHIP and change.before is not None:
            for village_change in DivisionChange.objects.filter(
                level=Division.Level.VILLAGE,
                changed_by=change.changed_by,
                before__parent_code=change.before.code,
                effective_date__isnull=True,
            ).select_related("before", "after"):
                village_change.effective_date = effective_date
                village_change.save(update_fields=["effective_date"])
                _effective_date_apply(village_change)
    if effective_date is not None or not confirm:
        division_areas_rebuild()
    logger.info("division change %s reviewed by %s: %s", change.pk, user, change.review)
    return change
