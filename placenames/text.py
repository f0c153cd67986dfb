"""Text rules of standard place names: Hanyu Pinyin spelling (GB/T 16159 and the place-name
romanisation rules: specific and generic parts written apart, each capitalised, apostrophe before a
syllable starting with a, o or e, with the place-name readings pypinyin gets wrong), the search keys
(toneless pinyin, initials), traditional characters, and the normalisation of a query.
"""

import functools
import re
import unicodedata

import opencc

from boundaries.names import ETHNIC_NAME, PEOPLE

# Place-name readings that pypinyin's general dictionary gets wrong or leaves ambiguous.
PLACE_PHRASES = {
    "重庆": [["chóng"], ["qìng"]],
    "长寿": [["cháng"], ["shòu"]],
    "大足": [["dà"], ["zú"]],
    "蚌埠": [["bèng"], ["bù"]],
    "长坝": [["cháng"], ["bà"]],
    "长滩": [["cháng"], ["tān"]],
    "綦江": [["qí"], ["jiāng"]],
    "北碚": [["běi"], ["bèi"]],
    "涪陵": [["fú"], ["líng"]],
    "酉阳": [["yǒu"], ["yáng"]],
    "石柱": [["shí"], ["zhù"]],
    "解放碑": [["jiě"], ["fàng"], ["bēi"]],
    "朝天门": [["cháo"], ["tiān"], ["mén"]],
}


@functools.cache
def _pypinyin():
    """pypinyin with the place-name readings loaded, on first use: its dictionaries take ~55 MB, which
    a worker that only serves layers or tiles never needs (imported here, not at the top, for that)."""
    import pypinyin

    pypinyin.load_phrases_dict(PLACE_PHRASES)
    # In place names 长 is "long" (cháng) far more often than "grow" (zhǎng).
    pypinyin.load_single_dict({ord("长"): "cháng,zhǎng"})
    return pypinyin


def lazy_pinyin(text: str, **kwargs) -> list[str]:
    return _pypinyin().lazy_pinyin(text, **kwargs)


_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")

# Pinyin of a generic part as the place-name rules write it (one word).
GENERIC_PINYIN = {
    "自治县": "Zizhixian",
    "街道": "Jiedao",
    "社区": "Shequ",
    "市": "Shi",
    "区": "Qu",
    "县": "Xian",
    "镇": "Zhen",
    "乡": "Xiang",
    "村": "Cun",
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def _syllables_join(syllables: list[str]) -> str:
    """Join syllables into one word, with an apostrophe before a, o, e (Xi'an)."""
    word = ""
    for syllable in syllables:
        if word and syllable[:1] in "aoeāáǎàōóǒòēéěè":
            word += "'"
        word += syllable
    return word


def pinyin_word(text: str, *, tone: bool = False) -> str:
    """One capitalised pinyin word for a Chinese word (``沙坪坝`` -> ``Shapingba``)."""
    if not text:
        return ""
    syllables = lazy_pinyin(text, style=_pypinyin().Style.TONE if tone else _pypinyin().Style.NORMAL, errors="default")
    word = _syllables_join([s.replace("ü", "v") if not tone else s for s in syllables])
    return word[:1].upper() + word[1:]


def name_pinyin(*, specific: str, generic: str, tone: bool = False) -> str:
    """Official spelling: ``Yuzhong Qu``, ``Jiefangbei Jiedao``, ``Shizhu Tujiazu Zizhixian``."""
    parts = [pinyin_word(specific, tone=tone)]
    if generic:
        ethnic = ETHNIC_NAME.match("X" + generic)
        if ethnic:
            parts.extend(pinyin_word(people, tone=tone) for people in re.findall(PEOPLE, ethnic.group(2)))
            generic = ethnic.group(3)
        parts.append(GENERIC_PINYIN.get(generic) if not tone else pinyin_word(generic, tone=True))
    return " ".join(p for p in parts if p)


def pinyin_plain(text: str) -> str:
    """Toneless lowercase pinyin without spaces or apostrophes, for search: 沙坪坝区 -> shapingbaqu."""
    return "".join(lazy_pinyin(text, style=_pypinyin().Style.NORMAL, errors="ignore", v_to_u=False)).lower()


def pinyin_initials(text: str) -> str:
    """First letters of the syllables, lowercase: 沙坪坝区 -> spbq."""
    return "".join(s[:1] for s in lazy_pinyin(text, style=_pypinyin().Style.NORMAL, errors="ignore")).lower()


def traditional(text: str) -> str:
    return _S2T.convert(text)


def strip_tones(text: str) -> str:
    """Remove tone marks and tone numbers: ``Wànzhōu`` / ``wan4zhou1`` -> ``Wanzhou`` / ``wanzhou``."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", kept)


def query_normalise(raw: str) -> tuple[str, bool]:
    """Normalise a search query: traditional -> simplified (OpenCC t2s), tone marks and numbers
    dropped, lowercase, spaces, apostrophes and control characters removed. Returns (text, is_chinese)."""
    text = unicodedata.normalize("NFKC", raw)
    text = _CONTROL_OR_SPACE.sub("", text)
    is_chinese = bool(_CJK.search(text))
    if is_chinese:
        text = _T2S.convert(text)
        text = "".join(ch for ch in text if _CJK.match(ch) or ch.isalnum())
    else:
        text = strip_tones(text).lower().replace("ü", "v")
        text = re.sub(r"[^a-z]", "", text)
    return text, is_chinese
