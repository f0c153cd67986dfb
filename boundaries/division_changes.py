"""Change events between two dated snapshots of Chongqing's statistical divisions (区划调整).

The yearly lists give codes, names and parents, but never which new unit took over which old one,
nor the day of a change. This module derives those links from the lists alone, so that the import
and the dated views can share one tested rule set: a successor is the unit with the same 专名
(specific name) under the same parent; where a township vanishes without one, its villages show
where its area went. Every such link is marked inferred, with its evidence, and every event is only
known to lie after the earlier snapshot and on or before the later one.

``division_changes_apply`` replays a step's events on the earlier snapshot; that it yields the later
snapshot exactly is the proof that the events lose nothing.

Pure Python (standard library, ``boundaries.names`` and the region's constants): no Django models,
no database.
"""

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise
from pathlib import Path

from boundaries.names import division_kind, name_from_committee, name_split
from gis_portal.core.region import MUNICIPALITY_CODE

LEVELS = ("district", "township", "village")

# The yearly lists in fixtures/chongqing/ (see its SOURCES.md) and the date each one is as of.
CHONGQING_SNAPSHOTS = (
    (date(2019, 10, 31), "history/divisions-2019.csv"),
    (date(2020, 6, 30), "history/divisions-2020.csv"),
    (date(2021, 10, 31), "history/divisions-2021.csv"),
    (date(2022, 10, 31), "history/divisions-2022.csv"),
    (date(2023, 6, 30), "divisions.csv"),
)

# Kind changes that have a name of their own; any other kind change is typed by its code and parent.
_KIND_CHANGES = {
    ("township", "town"): "township_to_town",
    ("town", "street"): "town_to_street",
    ("township", "street"): "township_to_street",
    ("village", "community"): "village_to_community",
}


class ChangeType(StrEnum):
    RENAMED = "renamed"  # same code, the standard name changed
    OFFICIAL_NAME_CHANGED = "official_name_changed"  # same code and standard name, committee name changed
    RECODED = "recoded"  # same standard name and parent unit, new code
    REPARENTED = "reparented"  # a village moved to another township (so its code changed)
    TOWNSHIP_TO_TOWN = "township_to_town"  # 乡 -> 镇, same 专名
    TOWN_TO_STREET = "town_to_street"  # 镇 -> 街道, same 专名
    TOWNSHIP_TO_STREET = "township_to_street"  # 乡 -> 街道, same 专名
    VILLAGE_TO_COMMUNITY = "village_to_community"  # 村 -> 社区 (村改居), same 专名
    MERGED_INTO = "merged_into"  # gone; its villages went to ``after``
    SPLIT_FROM = "split_from"  # ``after`` is new and took villages from ``before``, which goes on
    ABOLISHED = "abolished"  # gone, no successor found
    NEW = "new"  # appeared, no predecessor found


@dataclass(frozen=True)
class DivisionUnit:
    """One row of a list: ``name`` is the official name (for villages the committee's name),
    ``standard_name`` the place name, split into ``specific`` (专名) and the ``kind``."""

    code: str
    name: str
    level: str
    parent_code: str
    standard_name: str
    specific: str
    kind: str


@dataclass(frozen=True)
class DivisionSnapshot:
    """Every unit of one list, sorted by code, and the date the list is as of."""

    as_of: date
    units: tuple[DivisionUnit, ...]


@dataclass(frozen=True)
class DivisionChange:
    """One event of a step. ``before`` is the unit in the earlier list (None for ``new``), ``after``
    the unit in the later one (None for ``abolished``). The change happened after ``changed_after``
    and on or before ``changed_by``; the lists don't say the day."""

    type: ChangeType
    level: str
    before: DivisionUnit | None
    after: DivisionUnit | None
    changed_after: date
    changed_by: date
    inferred: bool
    evidence: str

    @property
    def before_ends(self) -> bool:
        """Whether the ``before`` unit ceases to exist (a unit split from goes on)."""
        return self.before is not None and self.type != ChangeType.SPLIT_FROM


@dataclass(frozen=True)
class DivisionUndecided:
    """A unit whose successor (or predecessor) the rules cannot pick: several candidates fit."""

    unit: DivisionUnit
    candidates: tuple[DivisionUnit, ...]
    reason: str


@dataclass(frozen=True)
class DivisionChangeStep:
    """The events between two consecutive lists, and the cases left undecided."""

    changed_after: date
    changed_by: date
    changes: tuple[DivisionChange, ...]
    undecided: tuple[DivisionUndecided, ...]


def division_unit_from_row(row: Mapping[str, str]) -> DivisionUnit:
    """A unit from a row dict with code, name, level and parent_code."""
    level = row["level"]
    if level not in LEVELS:
        raise ValueError(f"{row['code']}: unknown level {level!r}")
    standard = name_from_committee(row["name"]) if level == "village" else row["name"]
    return DivisionUnit(
        code=row["code"],
        name=row["name"],
        level=level,
        parent_code=row["parent_code"],
        standard_name=standard,
        specific=name_split(standard)[0],
        kind=division_kind(level=level, name=row["name"]),
    )


def division_snapshot_from_rows(*, as_of: date, rows: Iterable[Mapping[str, str]]) -> DivisionSnapshot:
    """A snapshot from row dicts; a code listed twice is an error."""
    units = sorted((division_unit_from_row(row) for row in rows), key=lambda unit: unit.code)
    for first, second in pairwise(units):
        if first.code == second.code:
            raise ValueError(f"{first.code} is listed twice")
    return DivisionSnapshot(as_of=as_of, units=tuple(units))


def division_snapshot_read(*, path: Path, as_of: date) -> DivisionSnapshot:
    """A snapshot from a CSV list (columns code,name,level,parent_code)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return division_snapshot_from_rows(as_of=as_of, rows=csv.DictReader(handle))


def _kind_change_type(*, before: DivisionUnit, after: DivisionUnit, fallback: ChangeType) -> ChangeType:
    if before.kind == after.kind:
        return fallback
    return ChangeType(_KIND_CHANGES.get((before.kind, after.kind), fallback))


class _Matcher:
    """Works out one step: the links found so far and the units still without one."""

    def __init__(self, *, before: DivisionSnapshot, after: DivisionSnapshot):
        self.before = {unit.code: unit for unit in before.units}
        self.after = {unit.code: unit for unit in after.units}
        self.changed_after = before.as_of
        self.changed_by = after.as_of
        self.changes: list[DivisionChange] = []
        self.undecided: list[DivisionUndecided] = []
        # Gone code -> the code of its successor of the same name (or kind change), per level above.
        self.successor: dict[str, str] = {}
        # Village links whose parent changed lineage: (before village, after village).
        self.moved: list[tuple[DivisionUnit, DivisionUnit]] = []

    def add(
        self,
        change_type: ChangeType,
        before: DivisionUnit | None,
        after: DivisionUnit | None,
        *,
        inferred: bool,
        evidence: str,
    ) -> None:
        level = (before or after).level
        self.changes.append(
            DivisionChange(
                type=change_type,
                level=level,
                before=before,
                after=after,
                changed_after=self.changed_after,
                changed_by=self.changed_by,
                inferred=inferred,
                evidence=evidence,
            )
        )

    def label(self, code: str) -> str:
        """``500110 (綦江区)``, from whichever list has the code."""
        unit = self.after.get(code) or self.before.get(code)
        return f"{code} ({unit.name})" if unit else code

    def parent_lineage(self, parent_code: str) -> str | None:
        """The later code of a parent: itself if it goes on, its same-name successor if re-coded,
        None if it went without one (then its villages are looked for in the whole district)."""
        if parent_code == MUNICIPALITY_CODE or parent_code in self.after:
            return parent_code
        return self.successor.get(parent_code)

    def same_code(self, level: str) -> None:
        """Units that keep their code: renamed, kind changed, or only the committee name changed."""
        for code, old in self.before.items():
            new = self.after.get(code)
            if old.level != level or new is None or old == new:
                continue
            if new.parent_code != old.parent_code or new.level != old.level:
                raise ValueError(f"{code} changed parent or level; the code should have changed")
            if new.standard_name == old.standard_name:
                self.add(
                    ChangeType.OFFICIAL_NAME_CHANGED,
                    old,
                    new,
                    inferred=False,
                    evidence=f"same code, same standard name {old.standard_name}; committee name {new.name}",
                )
            else:
                change_type = _kind_change_type(before=old, after=new, fallback=ChangeType.RENAMED)
                self.add(change_type, old, new, inferred=False, evidence="same code")

    def link(self, level: str) -> None:
        """Link gone units to new ones of the same 专名, strongest evidence first: the same standard
        name under the expected parent, the same 专名 there, then (villages only) the same within the
        district. A pair is linked only if each is the other's only candidate at that tier; a unit
        with several candidates is left undecided and not tried at weaker tiers."""
        gone = [unit for code, unit in self.before.items() if unit.level == level and code not in self.after]
        new = {code: unit for code, unit in self.after.items() if unit.level == level and code not in self.before}
        tiers = [("parent", "standard_name"), ("parent", "specific")]
        if level == "village":
            tiers += [("district", "standard_name"), ("district", "specific")]
        unmatched = list(gone)
        for scope, key in tiers:
            candidates: dict[str, list[DivisionUnit]] = {}
            pointed: dict[str, list[DivisionUnit]] = defaultdict(list)
            for old in unmatched:
                if scope == "parent":
                    where = self.parent_lineage(old.parent_code)
                    found = [n for n in new.values() if where is not None and n.parent_code == where]
                else:
                    found = [n for n in new.values() if n.code[:6] == old.code[:6]]
                found = [n for n in found if getattr(n, key) == getattr(old, key)]
                candidates[old.code] = found
                for candidate in found:
                    pointed[candidate.code].append(old)
            still: list[DivisionUnit] = []
            for old in unmatched:
                found = candidates[old.code]
                if not found:
                    still.append(old)
                elif len(found) == 1 and len(pointed[found[0].code]) == 1:
                    self.link_pair(old, found[0], scope=scope, key=key)
                    del new[found[0].code]
                else:
                    rivals = [o.code for o in pointed[found[0].code] if o.code != old.code]
                    reason = f"{len(found)} candidates with the same {key.replace('_', ' ')} in the {scope}"
                    if rivals:
                        reason += f"; also claimed by {', '.join(rivals)}"
                    self.undecided.append(DivisionUndecided(unit=old, candidates=tuple(found), reason=reason))
            unmatched = still

    def link_pair(self, old: DivisionUnit, new: DivisionUnit, *, scope: str, key: str) -> None:
        what = "standard name" if key == "standard_name" else "specific name"
        value = getattr(old, key)
        expected = self.parent_lineage(old.parent_code)
        if new.parent_code == expected:
            if new.parent_code == old.parent_code:
                where = self.label(new.parent_code)
            else:
                where = f"{self.label(new.parent_code)}, successor of {self.label(old.parent_code)}"
            change_type = _kind_change_type(before=old, after=new, fallback=ChangeType.RECODED)
            self.successor[old.code] = new.code
            evidence = f"same {what} {value} in {where}"
        else:
            # Same name in the district, but under a township that is not its own township's heir.
            change_type = ChangeType.REPARENTED
            self.moved.append((old, new))
            evidence = (
                f"same {what} {value} in {self.label(old.code[:6])}, moved from {self.label(old.parent_code)}"
                f" to {self.label(new.parent_code)}"
            )
        self.add(change_type, old, new, inferred=True, evidence=evidence)

    def townships_by_villages(self) -> None:
        """A gone township without a same-name successor merged into the townships its villages
        went to; a new township without a same-name predecessor split from the townships that go on
        and gave it villages. Either needs at least one village followed there."""
        went_to: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        came_from: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for old, new in self.moved:
            went_to[old.parent_code][new.parent_code] += 1
            came_from[new.parent_code][old.parent_code] += 1
        children: dict[str, int] = defaultdict(int)
        for unit in self.before.values():
            children[unit.parent_code] += 1
        heirs = set(self.successor.values())
        for code, old in self.before.items():
            if old.level != "township" or code in self.after or code in self.successor:
                continue
            for target, count in sorted(went_to[code].items()):
                self.add(
                    ChangeType.MERGED_INTO,
                    old,
                    self.after[target],
                    inferred=True,
                    evidence=f"{count} of its {children[code]} villages reappear under {self.label(target)}",
                )
        for code, new in self.after.items():
            if new.level != "township" or code in self.before or code in heirs:
                continue
            for source, count in sorted(came_from[code].items()):
                if self.parent_lineage(source) is None:
                    continue  # a township that went: its link is the merged_into above
                self.add(
                    ChangeType.SPLIT_FROM,
                    self.before[source],
                    new,
                    inferred=True,
                    evidence=f"{count} of its villages came from {self.label(source)}",
                )

    def leftovers(self, level: str) -> None:
        """Units still without a link: abolished or new."""
        ended = {c.before.code for c in self.changes if c.before is not None and c.before_ends}
        begun = {c.after.code for c in self.changes if c.after is not None}
        undecided = {case.unit.code: case.reason for case in self.undecided}
        for case in self.undecided:
            for candidate in case.candidates:
                reason = f"one of {len(case.candidates)} candidate successors of {case.unit.code}"
                undecided.setdefault(candidate.code, reason)
        for code, old in self.before.items():
            if old.level == level and code not in self.after and code not in ended:
                self.add(ChangeType.ABOLISHED, old, None, inferred=True, evidence=self.unlinked(old, undecided))
        for code, new in self.after.items():
            if new.level == level and code not in self.before and code not in begun:
                self.add(ChangeType.NEW, None, new, inferred=True, evidence=self.unlinked(new, undecided))

    def unlinked(self, unit: DivisionUnit, undecided: Mapping[str, str]) -> str:
        if unit.code in undecided:
            return f"undecided: {undecided[unit.code]}"
        # Villages were looked for in the whole district, townships under their district.
        where = self.label(unit.code[:6] if unit.level == "village" else unit.parent_code)
        other = "gone" if unit.code in self.before else "new"
        evidence = f"no {other} unit named {unit.specific} in {where}"
        if unit.level == "township":
            evidence += ", and no village followed " + ("from it" if other == "new" else "into it")
        return evidence


def division_changes_derive(*, before: DivisionSnapshot, after: DivisionSnapshot) -> DivisionChangeStep:
    """The change events from ``before`` to ``after`` (two lists, the earlier first)."""
    if before.as_of >= after.as_of:
        raise ValueError(f"snapshot of {before.as_of} is not before the one of {after.as_of}")
    matcher = _Matcher(before=before, after=after)
    for level in LEVELS:
        matcher.same_code(level)
        matcher.link(level)
    # Only now are the villages followed: they tell where a township without a same-name heir went.
    matcher.townships_by_villages()
    for level in LEVELS:
        matcher.leftovers(level)
    changes = sorted(
        matcher.changes,
        key=lambda c: (LEVELS.index(c.level), (c.before or c.after).code, c.after.code if c.after else ""),
    )
    return DivisionChangeStep(
        changed_after=before.as_of,
        changed_by=after.as_of,
        changes=tuple(changes),
        undecided=tuple(matcher.undecided),
    )


def division_changes_apply(*, before: DivisionSnapshot, step: DivisionChangeStep) -> DivisionSnapshot:
    """Replay a step on the earlier snapshot: the units whose events end them go, the units the
    events lead to come (all removals first, so a renamed code is replaced). Raises ValueError if an
    event does not fit: its unit is not in the snapshot as it says, two events disagree about a
    unit, or a unit's parent is missing afterwards."""
    if before.as_of != step.changed_after:
        raise ValueError(f"the step starts on {step.changed_after}, the snapshot is of {before.as_of}")
    units = {unit.code: unit for unit in before.units}
    for change in step.changes:
        if change.before is not None and units.get(change.before.code) != change.before:
            raise ValueError(f"{change.type} of {change.before.code}: not in the snapshot as the event says")
    for change in step.changes:
        if change.before_ends:
            units.pop(change.before.code, None)
    added: dict[str, DivisionUnit] = {}
    for change in step.changes:
        if change.after is None:
            continue
        code = change.after.code
        if added.get(code, change.after) != change.after or units.get(code, change.after) != change.after:
            raise ValueError(f"{code}: events disagree about the unit")
        added[code] = units[code] = change.after
    for unit in units.values():
        if unit.parent_code != MUNICIPALITY_CODE and unit.parent_code not in units:
            raise ValueError(f"{unit.code}: parent {unit.parent_code} is missing")
    return DivisionSnapshot(as_of=step.changed_by, units=tuple(sorted(units.values(), key=lambda u: u.code)))
