"""The pure naming checks (placenames.naming_rules): the character table and its levels, rare and
non-standard characters, the 通名 against the object type, and plain validation. No database."""

import pytest

from placenames.naming_rules import (
    CHARACTER_TABLE,
    NAME_MAX_LENGTH,
    OBJECT_GENERICS,
    RULE_SOURCES,
    character_level,
    character_table,
    name_check,
    name_validate,
)


def rules(findings):
    return [f.rule for f in findings]


def test_the_vendored_table_has_its_8105_characters_in_three_levels():
    table = character_table()
    assert len(table) == 8105
    assert table["一"] == 1 and table["蠼"] == 8105
    # The last character of level 1 and the first ones of levels 2 and 3, as numbered in the table.
    assert (character_level(character="矗"), character_level(character="乂")) == (1, 2)
    assert (character_level(character="齉"), character_level(character="亍")) == (2, 3)
    assert sum(1 for c in table if character_level(character=c) == 1) == 3500
    assert character_level(character="區") is None


def test_a_plain_name_passes():
    assert name_check(name="解放碑街道", specific="解放碑", generic="街道", object_type="division") == []


def test_a_rare_character_is_flagged_with_the_list_named():
    [finding] = name_check(name="盐井凼村", specific="盐井凼", generic="村", object_type="village")
    assert finding.rule == "name.characters.rare"
    assert "凼 (level 2, no. 3595)" in finding.message
    assert CHARACTER_TABLE in finding.message and "一级字表" in finding.source
    assert finding.blocking is False  # Chongqing's own names use such characters: the officer weighs it


def test_characters_outside_the_table_and_traditional_forms_block():
    assert rules(name_check(name="磺厂路", specific="磺厂", generic="路", object_type="road")) == [
        "name.characters.outside_table"
    ]
    [finding] = name_check(name="長壽路", specific="長壽", generic="路", object_type="road")
    assert finding.rule == "name.characters.traditional" and "長 (长)" in finding.message
    assert finding.blocking


@pytest.mark.parametrize(
    ("name", "specific", "generic", "object_type"),
    [
        ("解放碑桥", "解放碑", "桥", "road"),
        ("解放碑街道", "解放碑", "街道", "road"),  # 街道 is a division, not a street
        ("朝天门路", "朝天门", "路", "bridge"),
        ("龙湖", "龙湖", "", "residential_area"),
        ("歌乐社区", "歌乐", "社区", "natural_feature"),
    ],
)
def test_a_generic_that_does_not_fit_the_object_type_is_reported(name, specific, generic, object_type):
    [finding] = name_check(name=name, specific=specific, generic=generic, object_type=object_type)
    assert finding.rule == "name.generic.object_type"
    assert "第三条" in finding.source


@pytest.mark.parametrize(
    ("name", "specific", "generic", "object_type"),
    [
        ("解放东路", "解放", "东路", "road"),
        ("民生二巷", "民生", "二巷", "road"),
        ("朝天门大桥", "朝天门", "大桥", "bridge"),
        ("龙湖花园", "龙湖", "花园", "residential_area"),
        ("歌乐山", "歌乐", "山", "natural_feature"),
        ("九龙坡", "九龙", "坡", "natural_feature"),
        ("化龙桥社区", "化龙桥", "社区", "community"),
        ("观音桥村", "观音桥", "村", "village"),
        ("青木关镇", "青木关", "镇", "division"),
    ],
)
def test_generics_that_fit(name, specific, generic, object_type):
    assert name_check(name=name, specific=specific, generic=generic, object_type=object_type) == []


def test_empty_and_whitespace_names_are_reported():
    for name in ("", "  "):
        [finding] = name_check(name=name, specific="", generic="", object_type="road")
        assert finding.rule == "name.empty" and finding.blocking


def test_an_over_long_name_is_reported():
    name = "渝" * NAME_MAX_LENGTH + "路"
    findings = name_check(name=name, specific="渝" * NAME_MAX_LENGTH, generic="路", object_type="road")
    assert rules(findings) == ["name.too_long"]
    assert rules(name_validate(name="渝" * (NAME_MAX_LENGTH - 1) + "路")) == []


def test_non_chinese_characters_are_reported():
    [finding] = name_validate(name="A1 路")
    assert finding.rule == "name.non_chinese"
    assert "A, 1, ' '" in finding.message


def test_parts_must_make_up_the_name_and_object_types_are_known():
    assert rules(name_check(name="解放碑路", specific="解放", generic="路", object_type="road")) == ["name.parts"]
    with pytest.raises(ValueError, match="unknown object type"):
        name_check(name="解放路", specific="解放", generic="路", object_type="tunnel")


def test_every_rule_has_a_source():
    assert all(RULE_SOURCES.values())
    assert set(OBJECT_GENERICS) == {
        "county",
        "division",
        "community",
        "village",
        "road",
        "bridge",
        "residential_area",
        "natural_feature",
    }
