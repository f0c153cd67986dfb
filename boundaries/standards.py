"""The check of a proposed town or street against the establishment standards (镇、街道设立标准):
pure, no database. A standard is a set of alternatives (``group``); an alternative is met when all of
its criteria are; a criterion whose figure is not given is reported as missing, never estimated.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal

COMPARE = {
    "gte": lambda value, threshold: value >= threshold,
    "gt": lambda value, threshold: value > threshold,
    "lt": lambda value, threshold: value < threshold,
    "lte": lambda value, threshold: value <= threshold,
}


def establishment_check(*, criteria: Iterable[Mapping], figures: Mapping[str, float | int | None]) -> dict:
    """``criteria``: dicts with group, figure, figure_label, comparison, threshold, source;
    ``figures``: the values stated (or held) for the unit, by figure name. Answers
    ``{"result": "met" | "not_met" | "figures_missing", "missing": [figure...], "alternatives": [...]}``
    where each alternative has its criteria with ``value`` and ``status`` (met, not_met, missing)."""
    groups: dict[str, list[dict]] = {}
    for criterion in criteria:
        value = figures.get(criterion["figure"])
        if value is None:
            status = "missing"
        else:
            compare = COMPARE[criterion["comparison"]]
            status = "met" if compare(Decimal(str(value)), Decimal(str(criterion["threshold"]))) else "not_met"
        groups.setdefault(criterion["group"], []).append({**criterion, "value": value, "status": status})
    alternatives = []
    for group, items in sorted(groups.items()):
        statuses = {item["status"] for item in items}
        result = "not_met" if "not_met" in statuses else "figures_missing" if "missing" in statuses else "met"
        alternatives.append({"group": group, "result": result, "criteria": items})
    results = {alternative["result"] for alternative in alternatives}
    result = "met" if "met" in results else "figures_missing" if "figures_missing" in results else "not_met"
    missing = sorted(
        {
            item["figure"]
            for alternative in alternatives
            if alternative["result"] == "figures_missing"
            for item in alternative["criteria"]
            if item["status"] == "missing"
        }
    )
    return {"result": result, "missing": missing if result == "figures_missing" else [], "alternatives": alternatives}
