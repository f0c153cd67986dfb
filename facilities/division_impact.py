"""What a proposed division change would do to the facilities and their coverage (the receiver of
``boundaries.signals.division_change_impact``; the boundaries cannot call the facilities): the open
facilities of each unit by category, and the coverage of every active standard over the units
concerned, before and after the change.

After is measured as a what-if, like a coverage scenario (``facilities.scenarios``): inside a
transaction that is always rolled back, the townships are changed as the proposal would leave them
(polygons, kinds, a new unit inserted, the villages moved), the facilities are placed again from
their points by ``facilities_derive_divisions``, and the same coverage SQL (``coverage_units``) is
read. The units concerned: for township-level standards the townships themselves; for radius and
village-level standards their villages and communities (a change of townships moves none of them,
so those figures are the same before and after); for district-level standards the district."""

from django.db import transaction

from boundaries.models import Division
from boundaries.services import division_pieces_rebuild
from facilities.models import CoverageStandard, Facility
from facilities.selectors import NO_JIT, coverage_rule_label, coverage_units
from facilities.services import facilities_derive_divisions
from gis_portal.core import sql

OPEN_COUNTS_SQL = sql.compose(
    """
SELECT division_id, category, count(*) AS n FROM {facility}
 WHERE division_id = ANY(%(ids)s) AND status = %(open)s GROUP BY 1, 2
""",
    facility=Facility,
)

# The standard's demand units (the CTE ``units``) among the units concerned (``{scope}``).
COVERAGE_SQL = """
WITH {units}
SELECT count(*) AS demand_points, count(*) FILTER (WHERE u.covered) AS covered,
       COALESCE(sum(u.population), 0) AS population,
       COALESCE(sum(u.population) FILTER (WHERE u.covered), 0) AS population_covered
  FROM units u WHERE {scope}
"""
SCOPES = {
    "township": "u.id = ANY(%(scope_ids)s)",
    "village": "u.id IN (SELECT v.id FROM {division} v WHERE v.parent_id = ANY(%(scope_ids)s) AND v.level = 'village')",
    "district": "u.id = %(scope_district)s",
}


def _standard_level(standard: CoverageStandard) -> str:
    return "village" if standard.kind == CoverageStandard.Kind.RADIUS else standard.level


def _measure(*, ids: list[int], district_id: int, standards: list[CoverageStandard]) -> dict:
    """The open facilities of the units ``ids`` by category, and each standard's coverage over them."""
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for row in sql.rows(OPEN_COUNTS_SQL, {"ids": ids, "open": Facility.Status.OPEN}):
        counts[row["division_id"]][row["category"]] = row["n"]
    coverage = {}
    for standard in standards:
        units, params = coverage_units(standard, district_id=district_id)
        level = _standard_level(standard)
        scope = sql.compose(SCOPES[level], division=Division)
        query = sql.compose(COVERAGE_SQL, units=units, scope=scope)
        row = sql.rows(query, params | {"scope_ids": ids, "scope_district": district_id}, local_settings=NO_JIT)[0]
        n, covered = row["demand_points"], row["covered"]
        coverage[standard.pk] = {
            "demand_points": n,
            "covered": covered,
            "covered_share": round(covered / n, 4) if n else None,
            "population": int(row["population"]),
            "population_covered": int(row["population_covered"]),
        }
    return {"counts": counts, "coverage": coverage}


def _after_state(*, district: Division, before: list[dict], after: list[dict]) -> list[int]:
    """Change the townships as the proposal would (inside the caller's rolled-back transaction);
    return the ids of the units after, in the order given."""
    ids = []
    for unit in after:
        if unit["id"] is not None:
            Division.objects.filter(pk=unit["id"]).update(geom=unit["geom"], kind=unit["kind"])
            ids.append(unit["id"])
            continue
        [made] = Division.objects.bulk_create(  # no post_save: nothing to keep up to date in a what-if
            [
                Division(
                    code=unit["code"],
                    name=unit["name"],
                    level=Division.Level.TOWNSHIP,
                    kind=unit["kind"],
                    parent=district,
                    cluster_id=district.cluster_id,
                    geom=unit["geom"],
                    point=unit["geom"].point_on_surface,
                    source="what-if",
                )
            ]
        )
        ids.append(made.pk)
    before_ids = [unit["id"] for unit in before]
    Division.objects.filter(pk__in=set(before_ids) - set(ids)).update(geom=None)
    division_pieces_rebuild(division_ids=[*before_ids, *ids])
    villages = Division.objects.filter(level=Division.Level.VILLAGE)
    villages.filter(parent_id__in=before_ids).update(parent_id=ids[0])
    for unit_id, unit in zip(ids[1:], after[1:], strict=True):
        villages.filter(parent_id=ids[0], point__within=unit["geom"]).update(parent_id=unit_id)
    moved = list(Facility.objects.filter(division_id__in=before_ids).values_list("id", flat=True))
    if moved:
        facilities_derive_divisions(facility_ids=moved)
    return ids


def _by_category(counts: dict[str, int]) -> list[dict]:
    """Counts as a list in the categories' order, each with its label (for the page, as text)."""
    return [
        {"category": category, "label": str(label), "n": counts[category]}
        for category, label in Facility.Category.choices
        if counts.get(category)
    ]


def _units(units: list[dict], ids: list[int], counts: dict[int, dict[str, int]]) -> list[dict]:
    return [
        {
            "code": unit["code"],
            "name": unit["name"],
            "by_category": _by_category(counts[i]),
            "total": sum(counts[i].values()),
        }
        for unit, i in zip(units, ids, strict=True)
    ]


def facilities_division_change_impact(*, district_id: int, before: list[dict], after: list[dict], **_signal) -> dict:
    """Receiver of ``division_change_impact``: ``{"facilities": ...}`` with the open facilities of
    each unit before and after by category (placed by their points, as the facilities are placed),
    and for each active coverage standard its coverage over the units concerned before and after.
    Writes nothing (the after state is rolled back)."""
    standards = list(CoverageStandard.objects.filter(active=True).order_by("category", "kind"))
    district = Division.objects.get(pk=district_id)
    before_ids = [unit["id"] for unit in before]
    measured_before = _measure(ids=before_ids, district_id=district_id, standards=standards)
    with transaction.atomic():
        after_ids = _after_state(district=district, before=before, after=after)
        measured_after = _measure(ids=after_ids, district_id=district_id, standards=standards)
        transaction.set_rollback(True)  # a what-if: nothing stays

    def totals(measured: dict) -> list[dict]:
        by_category: dict[str, int] = {}
        for unit_counts in measured["counts"].values():
            for category, n in unit_counts.items():
                by_category[category] = by_category.get(category, 0) + n
        return _by_category(by_category)

    return {
        "facilities": {
            "counted": "open facilities, placed by their points",
            "before": {
                "units": _units(before, before_ids, measured_before["counts"]),
                "by_category": totals(measured_before),
            },
            "after": {
                "units": _units(after, after_ids, measured_after["counts"]),
                "by_category": totals(measured_after),
            },
            "coverage": [
                {
                    "category": standard.category,
                    "label": str(standard.get_category_display()),
                    "kind": standard.kind,
                    "rule": coverage_rule_label(standard),
                    "over": _standard_level(standard),
                    "before": measured_before["coverage"][standard.pk],
                    "after": measured_after["coverage"][standard.pk],
                }
                for standard in standards
            ],
        }
    }
