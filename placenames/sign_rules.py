"""Checks of the text on a place-name sign (地名标志) against the standard name: pure functions, no
database. ``sign_text_check`` returns one ``SignFinding`` per broken rule; a correct sign gives none.

The expected pinyin comes from ``placenames.text`` (the project's one pinyin speller, with its
place-name readings); this module only compares.

Rules implemented (rule id: what is checked; source)

Chinese text
- ``sign.chinese.traditional``: a character on the sign is the traditional or variant form of the
  standard simplified one (區 for 区, 衝 for 冲; found with OpenCC's t2s table). Source:
  《关于地名用字的若干规定》(1987) 一: place names are written in standard characters, not in
  simplified-away traditional forms or abolished variants.
- ``sign.chinese.characters``: the sign's characters differ from the standard name (wrong, missing
  or extra characters). Source: 《地名管理条例》(2022) 第十八条(一) and 第十九条: place-name signs
  use and show the standard name.
  Spaces between characters are taken as layout and ignored.

Pinyin (Hanyu Pinyin of the standard name, as ``placenames.text`` spells it)
- ``sign.pinyin.tone_marks``: tone marks (ā á ǎ à, also the breve ŭ often typed for ǔ) on the
  sign; ü's diaeresis is a letter, not a tone mark. Source: GB 17733-2008 《地名 标志》 is taken to
  require Hanyu Pinyin without tone marks on signs, as the project brief says, but its clause
  could NOT be confirmed here (the text of the standard was not available); the 1984
  《中国地名汉语拼音字母拼写规则（汉语地名部分）》 rule 9 marks tones in general and allows
  leaving them out "in special cases", and the 2012 revision of GB/T 16159 added that proper nouns
  may be written all in capitals without tone marks in some settings (clause number not
  confirmed). Tone numbers (Jie2fang4) are not detected.
- ``sign.pinyin.letters``: the letters, ignoring case, spaces, tone marks and apostrophes, differ
  from the standard spelling (a wrong reading such as Zhangshou for 长寿, a missing syllable, stray
  punctuation). Source: 1984 rules 8 (Putonghua readings, as the standard name's pinyin records
  them) and 《地名管理条例》(2022) 第十八条(一).
- ``sign.pinyin.word_separation``: the letters are right but split into the wrong words, e.g.
  ``JiefangbeiJiedao`` or ``Jie Fang Bei Jie Dao`` for ``Jiefangbei Jiedao``. Source: GB/T
  16159-2012 6.2.2.1 (专名 and 通名 written apart) and 6.2.2.2 (one-syllable modifiers joined to
  their part); 1984 rules 1 and 2. The split is the one given as ``specific``/``generic``; a
  directional modifier of the generic belongs to the generic (``东路`` -> ``Donglu``).
- ``sign.pinyin.letter_case``: each word must start with a capital and go on in lower case
  (``Jiefangbei Jiedao``), or the whole text must be in capitals (``JIEFANGBEI JIEDAO``); nothing
  in between. Source: GB/T 16159-2012 6.2.2.1 (each part capitalised); 1984 rule 10 (first letter
  of each part capitalised, the rest lower case; "特殊情况可全部大写"); all capitals also per the
  2012 revision of GB/T 16159 (clause number not confirmed). Checked only when the words are right.
- ``sign.pinyin.apostrophe``: the apostrophe before a syllable starting with a, o or e that follows
  another syllable in the same word is missing (``Pingan`` for ``Ping'an``) or stands where the
  standard spelling has none. Source: 1984 rule 11; GB/T 16159-2012 (隔音符号 rule; clause number
  not confirmed). The typographic apostrophe ’ counts as ', ü and v count as the same letter, and
  runs of spaces count as one (layout).

Where the clauses were read: the wording of the 1984 rules and the 6.2.2.x numbering of GB/T
16159-2012 come from secondary copies found with the project's search tool, the all-capital
provision of the 2012 revision from press reports of its release; none of the three standards'
published texts was available here.

Not implemented: sign layout, sizes, colours and materials (the rest of GB 17733), tone numbers,
natural-village names written as one word (GB/T 16159-2012 6.2.2.4: they arrive here with whatever
split the standard name has), and names in minority languages.
"""

import re
import unicodedata
from dataclasses import dataclass

import opencc

from placenames.text import name_pinyin, pinyin_word

_RULES_1984 = "《中国地名汉语拼音字母拼写规则（汉语地名部分）》(1984)"
RULE_SOURCES = {
    "sign.chinese.traditional": "《关于地名用字的若干规定》(1987) 一: 不用已简化的繁体字和已淘汰的异体字",
    "sign.chinese.characters": "《地名管理条例》(2022) 第十八条(一), 第十九条: 地名标志使用标准地名",
    "sign.pinyin.tone_marks": (
        "GB 17733-2008 《地名 标志》: pinyin without tone marks (clause not confirmed); "
        "GB/T 16159-2012: all-capital proper nouns without tone marks (clause not confirmed)"
    ),
    "sign.pinyin.letters": f"{_RULES_1984} 8; 《地名管理条例》(2022) 第十八条(一)",
    "sign.pinyin.word_separation": f"GB/T 16159-2012 6.2.2.1, 6.2.2.2; {_RULES_1984} 1, 2",
    "sign.pinyin.letter_case": f"GB/T 16159-2012 6.2.2.1; {_RULES_1984} 10 (特殊情况可全部大写)",
    "sign.pinyin.apostrophe": f"{_RULES_1984} 11; GB/T 16159-2012 隔音符号 (clause not confirmed)",
}

# Combining marks of the four tones, and the breve that is often typed for the caron (ŭ for ǔ).
_TONE_MARKS = {"\u0304", "\u0301", "\u030c", "\u0300", "\u0306"}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_T2S = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class SignFinding:
    rule: str
    message: str
    expected: str
    found: str
    source: str


def _finding(rule: str, message: str, *, expected: str, found: str) -> SignFinding:
    return SignFinding(rule=rule, message=message, expected=expected, found=found, source=RULE_SOURCES[rule])


def sign_pinyin_expected(*, specific: str, generic: str) -> str:
    """The toneless spelling a sign should carry: ``Jiefangbei Jiedao``, ``Jiefang Lu``.

    ``name_pinyin`` spells the division generics it knows (区, 街道, 土家族自治县 …) and leaves out
    others, so a generic such as 路 or 大桥 is spelled here as one pinyin word.
    """
    generic_spelled = name_pinyin(specific="", generic=generic) or pinyin_word(generic)
    words = [pinyin_word(specific), generic_spelled]
    # placenames.text writes ü as v (its search convention); a sign writes ü.
    return " ".join(w for w in words if w).replace("v", "ü").replace("V", "Ü")


def _fold(text: str) -> str:
    """Lower case, with ü and v as one letter."""
    return text.lower().replace("v", "ü")


def _letters(text: str) -> str:
    """Lowercase letters only, with ü and v as one letter."""
    return re.sub(r"[^a-zü]", "", _fold(text))


def _chinese_findings(*, standard_name: str, sign_chinese: str) -> list[SignFinding]:
    found = "".join(sign_chinese.split())  # spaces between characters are layout on a sign
    if found == standard_name:
        return []
    if not found:
        return [
            _finding(
                "sign.chinese.characters",
                "The sign has no Chinese text.",
                expected=standard_name,
                found=sign_chinese,
            )
        ]
    if len(found) != len(standard_name):
        if _T2S.convert(found) == standard_name:
            return [
                _finding(
                    "sign.chinese.traditional",
                    "The sign is written in traditional or variant characters; the standard name uses simplified ones.",
                    expected=standard_name,
                    found=sign_chinese,
                )
            ]
        return [
            _finding(
                "sign.chinese.characters",
                f"The sign reads {found}, the standard name is {standard_name}.",
                expected=standard_name,
                found=sign_chinese,
            )
        ]
    traditional, wrong = [], []
    for shown, standard in zip(found, standard_name, strict=True):
        if shown != standard:
            (traditional if _T2S.convert(shown) == standard else wrong).append(f"{shown} for {standard}")
    findings = []
    if traditional:
        findings.append(
            _finding(
                "sign.chinese.traditional",
                "Traditional or variant characters where the standard name has simplified ones: "
                f"{', '.join(traditional)}.",
                expected=standard_name,
                found=sign_chinese,
            )
        )
    if wrong:
        findings.append(
            _finding(
                "sign.chinese.characters",
                f"Wrong characters: {', '.join(wrong)}.",
                expected=standard_name,
                found=sign_chinese,
            )
        )
    return findings


def _pinyin_findings(*, expected: str, sign_pinyin: str) -> list[SignFinding]:
    text = " ".join(unicodedata.normalize("NFC", sign_pinyin).translate(_APOSTROPHES).split())
    if not text:
        return [_finding("sign.pinyin.letters", "The sign has no pinyin.", expected=expected, found=sign_pinyin)]
    findings = []
    decomposed = unicodedata.normalize("NFD", text)
    if any(c in _TONE_MARKS for c in decomposed):
        findings.append(
            _finding(
                "sign.pinyin.tone_marks",
                "The pinyin carries tone marks; sign pinyin is written without them.",
                expected=expected,
                found=sign_pinyin,
            )
        )
    toneless = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    if _letters(toneless) != _letters(expected):
        findings.append(
            _finding(
                "sign.pinyin.letters",
                f"The pinyin letters differ from the standard spelling {expected}.",
                expected=expected,
                found=sign_pinyin,
            )
        )
        return findings
    found_words = re.split(r"[\s\-]+", toneless)
    expected_words = expected.split(" ")
    if [_letters(w) for w in found_words] != [_letters(w) for w in expected_words]:
        findings.append(
            _finding(
                "sign.pinyin.word_separation",
                f"Wrong word separation: the standard spelling has {len(expected_words)} word(s), "
                f"专名 and 通名 apart and each word's syllables joined ({expected}).",
                expected=expected,
                found=sign_pinyin,
            )
        )
        return findings
    pairs = list(zip(found_words, expected_words, strict=True))
    if any(_fold(f).replace("'", "") != _fold(e).replace("'", "") for f, e in pairs):
        findings.append(
            _finding(
                "sign.pinyin.letters",
                f"Stray characters in the pinyin; the standard spelling is {expected}.",
                expected=expected,
                found=sign_pinyin,
            )
        )
        return findings
    if any(_fold(f) != _fold(e) for f, e in pairs):
        findings.append(
            _finding(
                "sign.pinyin.apostrophe",
                "Apostrophe missing or misplaced: a syllable starting with a, o or e inside a word is "
                f"marked off with ' ({expected}).",
                expected=expected,
                found=sign_pinyin,
            )
        )
    bare = [(f.replace("'", ""), e.replace("'", "")) for f, e in pairs]
    as_written = all(f.replace("v", "ü") == e for f, e in bare)
    all_capitals = all(f.replace("V", "Ü") == e.upper() for f, e in bare)
    if not (as_written or all_capitals):
        findings.append(
            _finding(
                "sign.pinyin.letter_case",
                "Letter case: each word starts with a capital and goes on in lower case, or the whole text is "
                f"in capitals ({expected} or {expected.upper()}).",
                expected=expected,
                found=sign_pinyin,
            )
        )
    return findings


def sign_text_check(
    *, standard_name: str, specific: str, generic: str, sign_chinese: str, sign_pinyin: str
) -> list[SignFinding]:
    """Findings on a sign's Chinese and pinyin text against the standard name, split into its
    专名 (``specific``) and 通名 (``generic``); an empty list when the sign is right."""
    if specific + generic != standard_name:
        raise ValueError(f"{specific!r} + {generic!r} does not make up the standard name {standard_name!r}")
    expected = sign_pinyin_expected(specific=specific, generic=generic)
    return _chinese_findings(standard_name=standard_name, sign_chinese=sign_chinese) + _pinyin_findings(
        expected=expected, sign_pinyin=sign_pinyin
    )
