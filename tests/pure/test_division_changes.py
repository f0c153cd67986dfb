"""The change events derived from Chongqing's real yearly division lists (2019-2023), checked against
changes known from the lists themselves; no database."""

from collections import Counter
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from boundaries.division_changes import (
    CHONGQING_SNAPSHOTS,
    ChangeType,
    DivisionChangeStep,
    DivisionSnapshot,
    division_changes_apply,
    division_changes_derive,
    division_snapshot_from_rows,
    division_snapshot_read,
)
from boundaries.names import name_from_committee

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "chongqing"
# Types that link a unit to a successor of the same 专名 (the same unit under a new code or kind).
SAME_NAME_SUCCESSOR = {
    ChangeType.RECODED,
    ChangeType.TOWNSHIP_TO_TOWN,
    ChangeType.TOWN_TO_STREET,
    ChangeType.TOWNSHIP_TO_STREET,
    ChangeType.VILLAGE_TO_COMMUNITY,
}


@pytest.fixture(scope="module")
def snapshots() -> list[DivisionSnapshot]:
    return [division_snapshot_read(path=FIXTURES / path, as_of=as_of) for as_of, path in CHONGQING_SNAPSHOTS]


@pytest.fixture(scope="module")
def steps(snapshots) -> list[DivisionChangeStep]:
    return [division_changes_derive(before=before, after=after) for before, after in pairwise(snapshots)]


def changes_of(step: DivisionChangeStep, code: str):
    """The events whose earlier unit has this code."""
    return [change for change in step.changes if change.before is not None and change.before.code == code]


def test_each_list_has_its_published_counts(snapshots):
    counts = [Counter(unit.level for unit in snapshot.units) for snapshot in snapshots]
    assert [c["district"] for c in counts] == [38] * 5
    assert [c["township"] for c in counts] == [1028, 1029, 1031, 1031, 1031]
    assert [c["village"] for c in counts] == [11206, 11224, 11234, 11252, 11270]


@pytest.mark.parametrize("index", range(4))
def test_replaying_a_step_on_the_earlier_list_gives_the_later_one_exactly(snapshots, steps, index):
    replayed = division_changes_apply(before=snapshots[index], step=steps[index])
    assert replayed == snapshots[index + 1]  # codes, official and standard names, levels, parents


def test_replay_fails_when_an_event_is_left_out(snapshots, steps):
    step = steps[1]
    official = next(c for c in step.changes if c.type == ChangeType.OFFICIAL_NAME_CHANGED)
    without = DivisionChangeStep(
        changed_after=step.changed_after,
        changed_by=step.changed_by,
        changes=tuple(c for c in step.changes if c is not official),
        undecided=step.undecided,
    )
    assert division_changes_apply(before=snapshots[1], step=without) != snapshots[2]
    # Leaving out a township's event strands the villages re-coded under its successor.
    xinsheng = changes_of(steps[0], "500110122")[0]
    without = DivisionChangeStep(
        changed_after=steps[0].changed_after,
        changed_by=steps[0].changed_by,
        changes=tuple(c for c in steps[0].changes if c is not xinsheng),
        undecided=(),
    )
    with pytest.raises(ValueError, match="parent 500110006 is missing"):
        division_changes_apply(before=snapshots[0], step=without)


def test_xinsheng_town_became_a_street_with_a_new_code_between_2019_and_2020(steps):
    [change] = changes_of(steps[0], "500110122")
    assert change.type == ChangeType.TOWN_TO_STREET
    assert (change.before.name, change.after.code, change.after.name) == ("新盛镇", "500110006", "新盛街道")
    assert change.inferred
    assert change.evidence == "same specific name 新盛 in 500110 (綦江区)"
    assert (change.changed_after, change.changed_by) == (date(2019, 10, 31), date(2020, 6, 30))


def test_xinsheng_villages_were_recoded_with_their_town(snapshots, steps):
    villages = [unit for unit in snapshots[0].units if unit.parent_code == "500110122"]
    assert len(villages) == 9
    for village in villages:
        [change] = changes_of(steps[0], village.code)
        assert change.type == ChangeType.RECODED
        assert change.after.parent_code == "500110006"
        assert change.after.code == "500110006" + village.code[-3:]
        assert change.after.standard_name == village.standard_name
        assert change.inferred
        assert "successor of 500110122 (新盛镇)" in change.evidence


def test_luoyun_township_became_a_town_between_2020_and_2021(steps):
    [change] = changes_of(steps[1], "500102204")
    assert change.type == ChangeType.TOWNSHIP_TO_TOWN
    assert (change.before.name, change.after.code, change.after.name) == ("罗云乡", "500102131", "罗云镇")
    assert (change.changed_after, change.changed_by) == (date(2020, 6, 30), date(2021, 10, 31))


def test_jiuchi_township_became_a_street(steps):
    [change] = changes_of(steps[1], "500101245")
    assert change.type == ChangeType.TOWNSHIP_TO_STREET
    assert change.after.name == "九池街道"


def test_qingshui_was_renamed_under_the_same_code(steps):
    [change] = changes_of(steps[0], "500235242")
    assert change.type == ChangeType.RENAMED
    assert (change.before.name, change.after.name) == ("清水土家族自治乡", "清水土家族乡")
    assert change.after.code == "500235242"
    assert not change.inferred  # the code says it is the same unit


def test_tukan_has_no_same_name_successor_but_its_villages_all_went_to_yangjiao(steps):
    """The issue calls 土坎镇 abolished outright; the lists show all six of its villages under 羊角街道
    (itself the successor of 羊角镇), so the rules record it as merged into 羊角街道."""
    [change] = changes_of(steps[0], "500156110")
    assert change.type == ChangeType.MERGED_INTO
    assert (change.after.code, change.after.name) == ("500156004", "羊角街道")
    assert change.evidence == "6 of its 6 villages reappear under 500156004 (羊角街道)"
    moved = [c for c in steps[0].changes if c.before and c.before.parent_code == "500156110"]
    assert len(moved) == 6
    assert {c.type for c in moved} == {ChangeType.REPARENTED}
    assert {c.after.parent_code for c in moved} == {"500156004"}


def test_26_townships_went_between_2019_and_2023_23_of_them_with_a_same_name_successor(snapshots, steps):
    first = {u.code for u in snapshots[0].units if u.level == "township"}
    last = {u.code for u in snapshots[-1].units if u.level == "township"}
    assert len(first - last) == 26
    gone = [
        change
        for step in steps
        for change in step.changes
        if change.level == "township" and change.before_ends and change.before.code in first - last
    ]
    assert len({c.before.code for c in gone}) == 26
    same_name = [c for c in gone if c.type in SAME_NAME_SUCCESSOR]
    assert len(same_name) == 23
    assert all(c.before.specific == c.after.specific for c in same_name)
    others = {c.before.name: (c.type, c.after.name) for c in gone if c.type not in SAME_NAME_SUCCESSOR}
    assert others == {
        "土坎镇": (ChangeType.MERGED_INTO, "羊角街道"),
        "镇安镇": (ChangeType.MERGED_INTO, "正安街道"),
        "孝溪乡": (ChangeType.MERGED_INTO, "清溪场街道"),
    }


def test_new_streets_split_from_the_streets_their_communities_came_from(steps):
    split = {(c.before.name, c.after.name) for step in steps for c in step.changes if c.type == ChangeType.SPLIT_FROM}
    assert split == {
        ("文龙街道", "通惠街道"),
        ("鱼洞街道", "莲花街道"),
        ("梓潼街道", "大佛街道"),
        ("永安街道", "夔州街道"),
        ("清溪场镇", "龙凤坝镇"),
    }


def test_a_committee_suffix_change_is_not_a_rename(steps):
    [change] = changes_of(steps[1], "500115129205")
    assert change.type == ChangeType.OFFICIAL_NAME_CHANGED
    assert (change.before.name, change.after.name) == ("燕耳村委会", "燕耳村村民委员会")
    assert change.before.standard_name == change.after.standard_name == "燕耳村"
    same_code = Counter(
        c.type
        for c in steps[1].changes
        if c.level == "village" and c.before and c.after and c.before.code == c.after.code
    )
    assert same_code == {ChangeType.OFFICIAL_NAME_CHANGED: 1183, ChangeType.RENAMED: 19}
    for step in steps:
        for c in step.changes:
            if c.type == ChangeType.RENAMED:
                assert c.before.standard_name != c.after.standard_name
            if c.type == ChangeType.OFFICIAL_NAME_CHANGED:
                assert c.before.standard_name == c.after.standard_name
                assert c.before.name != c.after.name


def test_every_event_carries_its_interval_and_every_inferred_one_its_evidence(steps):
    for step, ((start, _), (end, _)) in zip(steps, pairwise(CHONGQING_SNAPSHOTS), strict=True):
        assert not step.undecided
        for change in step.changes:
            assert (change.changed_after, change.changed_by) == (start, end)
            assert change.evidence
            same_code = change.before and change.after and change.before.code == change.after.code
            assert change.inferred == (not same_code)


@pytest.mark.parametrize(
    ("name", "standard"),
    [
        ("天生城社区居民委员会", "天生城社区"),
        ("盐井凼村民委员会", "盐井凼村"),
        ("燕耳村委会", "燕耳村"),
        ("双山村村委会", "双山村"),
        ("学堂湾社区居委会", "学堂湾社区"),
        ("回龙坝社区居民委会", "回龙坝社区"),
        ("盐河村村民委会", "盐河村"),
        ("泉水村村民委员", "泉水村"),
        ("倪峰社区居民委员会居委会", "倪峰社区"),
        ("中博社区社区居民委员会", "中博社区"),
        ("化龙桥社区工作站", "化龙桥社区"),
        ("移民小区管理委员会社区", "移民小区管理委员会社区"),
    ],
)
def test_standard_name_drops_the_committee_suffix(name, standard):
    assert name_from_committee(name) == standard


def rows(*units: tuple[str, str, str, str]) -> list[dict[str, str]]:
    return [dict(zip(("code", "name", "level", "parent_code"), unit, strict=True)) for unit in units]


DISTRICT = ("500199", "样例区", "district", "500000")


def test_a_township_with_no_successor_and_no_villages_followed_is_abolished():
    before = division_snapshot_from_rows(
        as_of=date(2020, 1, 1),
        rows=rows(DISTRICT, ("500199100", "甲镇", "township", "500199"), ("500199101", "乙镇", "township", "500199")),
    )
    after = division_snapshot_from_rows(
        as_of=date(2021, 1, 1), rows=rows(DISTRICT, ("500199101", "乙镇", "township", "500199"))
    )
    step = division_changes_derive(before=before, after=after)
    [change] = step.changes
    assert (change.type, change.before.code, change.after) == (ChangeType.ABOLISHED, "500199100", None)
    assert division_changes_apply(before=before, step=step) == after


def test_two_candidates_of_the_same_name_leave_the_case_undecided():
    before = division_snapshot_from_rows(
        as_of=date(2020, 1, 1), rows=rows(DISTRICT, ("500199100", "甲镇", "township", "500199"))
    )
    after = division_snapshot_from_rows(
        as_of=date(2021, 1, 1),
        rows=rows(DISTRICT, ("500199001", "甲街道", "township", "500199"), ("500199002", "甲乡", "township", "500199")),
    )
    step = division_changes_derive(before=before, after=after)
    [case] = step.undecided
    assert case.unit.code == "500199100"
    assert {unit.code for unit in case.candidates} == {"500199001", "500199002"}
    assert Counter(c.type for c in step.changes) == {ChangeType.ABOLISHED: 1, ChangeType.NEW: 2}
    assert all(c.evidence.startswith("undecided: ") for c in step.changes)
    assert division_changes_apply(before=before, step=step) == after


def test_a_code_listed_twice_is_refused():
    with pytest.raises(ValueError, match="listed twice"):
        division_snapshot_from_rows(as_of=date(2020, 1, 1), rows=rows(DISTRICT, DISTRICT))
