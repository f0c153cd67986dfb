"""The sign-text rules (placenames.sign_rules): a right sign passes, each kind of mistake is reported
under its own rule with its source. No database."""

import pytest

from placenames.sign_rules import RULE_SOURCES, sign_pinyin_expected, sign_text_check

JIEFANGBEI = {"standard_name": "解放碑街道", "specific": "解放碑", "generic": "街道"}


def rules(findings):
    return [f.rule for f in findings]


@pytest.mark.parametrize(
    ("name", "chinese", "pinyin"),
    [
        (JIEFANGBEI, "解放碑街道", "Jiefangbei Jiedao"),
        (JIEFANGBEI, "解 放 碑 街 道", "JIEFANGBEI JIEDAO"),  # spacing on a sign is layout; all capitals allowed
        ({"standard_name": "渝中区", "specific": "渝中", "generic": "区"}, "渝中区", "Yuzhong Qu"),
        ({"standard_name": "平安村", "specific": "平安", "generic": "村"}, "平安村", "Ping’an Cun"),
        ({"standard_name": "解放东路", "specific": "解放", "generic": "东路"}, "解放东路", "Jiefang Donglu"),
        (
            {"standard_name": "石柱土家族自治县", "specific": "石柱", "generic": "土家族自治县"},
            "石柱土家族自治县",
            "Shizhu Tujiazu Zizhixian",
        ),
    ],
)
def test_a_correct_sign_passes(name, chinese, pinyin):
    assert sign_text_check(**name, sign_chinese=chinese, sign_pinyin=pinyin) == []


def test_wrong_characters_are_reported():
    [finding] = sign_text_check(**JIEFANGBEI, sign_chinese="解放牌街道", sign_pinyin="Jiefangbei Jiedao")
    assert finding.rule == "sign.chinese.characters"
    assert "牌 for 碑" in finding.message
    assert (finding.expected, finding.found) == ("解放碑街道", "解放牌街道")
    assert "第十八条" in finding.source


def test_traditional_characters_are_reported_as_such():
    findings = sign_text_check(
        standard_name="长寿区", specific="长寿", generic="区", sign_chinese="長壽區", sign_pinyin="Changshou Qu"
    )
    assert rules(findings) == ["sign.chinese.traditional"]
    assert "區 for 区" in findings[0].message
    assert "繁体字" in findings[0].source


def test_wrong_pinyin_letters_are_reported():
    findings = sign_text_check(
        standard_name="长寿区", specific="长寿", generic="区", sign_chinese="长寿区", sign_pinyin="Zhangshou Qu"
    )
    assert rules(findings) == ["sign.pinyin.letters"]
    assert findings[0].expected == "Changshou Qu"


@pytest.mark.parametrize("pinyin", ["JiefangbeiJiedao", "Jie Fang Bei Jie Dao", "Jiefang Bei Jiedao"])
def test_wrong_word_separation_is_reported(pinyin):
    findings = sign_text_check(**JIEFANGBEI, sign_chinese="解放碑街道", sign_pinyin=pinyin)
    assert rules(findings) == ["sign.pinyin.word_separation"]
    assert "GB/T 16159-2012 6.2.2.1" in findings[0].source


def test_tone_marks_are_reported():
    findings = sign_text_check(**JIEFANGBEI, sign_chinese="解放碑街道", sign_pinyin="Jiěfàngbēi Jiēdào")
    assert rules(findings) == ["sign.pinyin.tone_marks"]
    assert "GB 17733-2008" in findings[0].source
    assert findings[0].expected == "Jiefangbei Jiedao"


def test_missing_apostrophe_is_reported():
    findings = sign_text_check(
        standard_name="平安村", specific="平安", generic="村", sign_chinese="平安村", sign_pinyin="Pingan Cun"
    )
    assert rules(findings) == ["sign.pinyin.apostrophe"]
    assert findings[0].expected == "Ping'an Cun"


@pytest.mark.parametrize("pinyin", ["jiefangbei jiedao", "JiefangBei Jiedao", "JIEFANGBEI Jiedao"])
def test_letter_case_is_checked(pinyin):
    findings = sign_text_check(**JIEFANGBEI, sign_chinese="解放碑街道", sign_pinyin=pinyin)
    assert rules(findings) == ["sign.pinyin.letter_case"]


def test_several_mistakes_give_several_findings():
    findings = sign_text_check(**JIEFANGBEI, sign_chinese="解放碑街道", sign_pinyin="jiěfàngbēi jiēdào")
    assert rules(findings) == ["sign.pinyin.tone_marks", "sign.pinyin.letter_case"]


def test_a_blank_sign_is_reported():
    assert rules(sign_text_check(**JIEFANGBEI, sign_chinese=" ", sign_pinyin="")) == [
        "sign.chinese.characters",
        "sign.pinyin.letters",
    ]


def test_u_umlaut_and_v_are_the_same_letter():
    name = {"standard_name": "绿水村", "specific": "绿水", "generic": "村"}
    assert sign_pinyin_expected(specific="绿水", generic="村") == "Lüshui Cun"
    assert sign_text_check(**name, sign_chinese="绿水村", sign_pinyin="Lüshui Cun") == []
    assert sign_text_check(**name, sign_chinese="绿水村", sign_pinyin="LVSHUI CUN") == []


def test_generics_outside_the_division_list_are_spelled():
    assert sign_pinyin_expected(specific="解放", generic="路") == "Jiefang Lu"
    assert sign_pinyin_expected(specific="朝天门", generic="大桥") == "Chaotianmen Daqiao"


def test_every_rule_has_a_source_and_parts_must_make_up_the_name():
    assert all(RULE_SOURCES.values())
    with pytest.raises(ValueError, match="does not make up"):
        sign_text_check(standard_name="渝中区", specific="渝中", generic="县", sign_chinese="", sign_pinyin="")
