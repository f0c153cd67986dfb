"""The naming rules of divisions: the standard place name of a village or community committee, the
split of a name into its specific part (专名) and generic part (通名), and a division's kind from its
level and name. Pure text rules, shared by the import, the division history and the gazetteer.
"""

import re

# Generic parts (通名) of division names, longest first so that 自治县 wins over 县 and 社区 over 区.
GENERICS = ["自治县", "街道", "社区", "市", "区", "县", "镇", "乡", "村"]
PEOPLE = r"(?:土家|苗|仡佬|回|彝|藏|侗|布依|蒙古|满|壮)族"
# A minority autonomous county or township: specific part, the peoples, the generic.
ETHNIC_NAME = re.compile(rf"^(.+?)((?:{PEOPLE})+)(自治县|乡)$")

# Committee suffixes, as the statistical lists write them (full, short and truncated forms), with
# the generic part each implies when the name before it does not end in one.
VILLAGE_COMMITTEE = ("村民委员会", "村民委会", "村民委员", "村委会")
RESIDENTS_COMMITTEE = ("居民委员会", "居民委会", "居委会", "工作站")


def _committee_suffix_strip(name: str) -> str:
    for suffixes, generic in ((RESIDENTS_COMMITTEE, "社区"), (VILLAGE_COMMITTEE, "村")):
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                base = name[: -len(suffix)]
                # A base that is itself a committee name loses that suffix on the next round.
                if base.endswith(("社区", "村")) or _committee_suffix_strip(base) != base:
                    return base
                return base + generic
    return name


def name_from_committee(committee: str) -> str:
    """The standard place name of a village or community committee: ``天生城社区居民委员会`` ->
    ``天生城社区``, ``观音桥村村民委员会`` -> ``观音桥村``, ``盐井凼村民委员会`` -> ``盐井凼村``,
    ``化龙桥社区工作站`` -> ``化龙桥社区``, ``燕耳村委会`` -> ``燕耳村``; a doubled suffix
    (倪峰社区居民委员会居委会) goes whole; other names are returned unchanged."""
    name = committee
    while (stripped := _committee_suffix_strip(name)) != name:
        name = stripped
    # A doubled generic is a slip of the list (中博社区社区居民委员会), not part of the name.
    return name.replace("社区社区", "社区")


def name_split(name: str) -> tuple[str, str]:
    """(专名, 通名) of a standard name: ``沙坪坝区`` -> (沙坪坝, 区), ``石柱土家族自治县`` ->
    (石柱, 土家族自治县), ``忠县`` -> (忠, 县). A name with no known generic part is all specific."""
    ethnic = ETHNIC_NAME.match(name)
    if ethnic:
        return ethnic.group(1), ethnic.group(2) + ethnic.group(3)
    for generic in GENERICS:
        if name.endswith(generic) and len(name) > len(generic):
            return name[: -len(generic)], generic
    return name, ""


def division_kind(*, level: str, name: str) -> str:
    """The kind of a division from its level and its official name (for a village or community,
    the committee's name: a 村民委员会 governs a village, a 居民委员会 a community, whatever the
    place is called; without a committee suffix, the generic part of the name decides)."""
    if level == "municipality":
        return "municipality"
    if level == "district":
        return "county" if name.endswith("县") else "district"
    if level == "township":
        if name.endswith("街道"):
            return "street"
        return "township" if name.endswith("乡") else "town"
    if name.endswith(VILLAGE_COMMITTEE):
        return "village"
    if name.endswith(RESIDENTS_COMMITTEE):
        return "community"
    return "community" if name_from_committee(name).endswith("社区") else "village"
