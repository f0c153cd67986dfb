"""What-if coverage for planners: facilities to add (points with a category and beds) and to close
(ids), for one category's standard and an area, answered with the coverage, the gaps and the change
against today, writing nothing.

The scenario is applied by the same services that change the real data (facilities inserted, their
divisions derived, closures, the nearest-facility table refreshed) and measured by the same
selectors, inside a transaction that is always rolled back: every kind of standard (radius,
presence, capacity) answers exactly as it would if the changes were made. Scenarios run one at a
time (a transaction-level advisory lock), so two never wait on each other's rows; a real write to
the same rows waits for at most one scenario (a few hundred milliseconds).

Saved scenarios keep only their definition (``Scenario``): a planner's own are listed, and any
planner may open one by its link.
"""

import logging
import math
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import Point
from django.db import transaction

from boundaries.models import Division
from facilities.models import CoverageStandard, Facility, Scenario
from facilities.selectors import (
    cluster_or_none,
    coverage_by_division,
    coverage_gaps,
    coverage_standard_get,
    district_id_or_none,
)
from facilities.services import coverage_nearest_refresh, facilities_derive_divisions
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import Forbidden, InvalidParameter, NotFound
from gis_portal.core.region import in_region
from gis_portal.core.roles import PLANNER, user_has_role

logger = logging.getLogger(__name__)

MAX_SITES = 50  # added, and closed, per scenario
MAX_COMPARED_POINTS = 20000  # uncovered points compared before and after
SCENARIO_LOCK = 0x5CE7A210  # pg_advisory_xact_lock key: one scenario at a time
TOTALS = ("demand_points", "covered", "population", "population_covered", "elderly_population", "elderly_covered")


def _clean_site(index: int, site: dict) -> dict:
    where = f"add[{index}]"
    category = site.get("category")
    if category not in Facility.Category.values:
        raise InvalidParameter(f"{where}: category {category!r} is not one of {', '.join(Facility.Category.values)}")
    try:
        lon, lat = float(site["lon"]), float(site["lat"])
    except (KeyError, TypeError, ValueError):
        raise InvalidParameter(f"{where}: lon and lat must be numbers (WGS84)") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and in_region(lon, lat)):
        raise InvalidParameter(f"{where}: the point ({lon}, {lat}) is outside Chongqing")
    beds = site.get("beds")
    if beds is not None and (isinstance(beds, bool) or not isinstance(beds, int) or beds < 0):
        raise InvalidParameter(f"{where}: beds must be a whole number, 0 or more")
    name = str(site.get("name") or "").strip()[:128] or f"scenario site {index + 1}"
    return {"index": index, "name": name, "category": category, "lon": lon, "lat": lat, "beds": beds}


def scenario_check(
    *,
    category: str,
    kind: str | None = None,
    district_code: str | None = None,
    cluster: str | None = None,
    add: Iterable[dict] = (),
    close: Iterable[int] = (),
) -> dict:
    """A scenario's definition validated (400 naming the bad part: an unknown category, a point
    outside Chongqing, a closed id that does not exist); returns it cleaned."""
    standard = coverage_standard_get(category=category, kind=kind)
    district_id_or_none(district_code)
    cluster_or_none(cluster)
    add, close = list(add), list(close)
    if len(add) > MAX_SITES or len(close) > MAX_SITES:
        raise InvalidParameter(f"at most {MAX_SITES} facilities to add and {MAX_SITES} to close")
    sites = [_clean_site(i, site if isinstance(site, dict) else {}) for i, site in enumerate(add)]
    if any(isinstance(i, bool) or not isinstance(i, int) for i in close):
        raise InvalidParameter("close: facility ids must be whole numbers")
    found = set(Facility.objects.filter(id__in=close).values_list("id", flat=True))
    missing = [i for i in close if i not in found]
    if missing:
        raise InvalidParameter(f"close: no facility with id {', '.join(map(str, missing))}")
    return {
        "category": category,
        "kind": standard.kind,
        "district_code": district_code or None,
        "cluster": cluster or None,
        "add": sites,
        "close": sorted(set(close)),
    }


def _measure(definition: dict, *, gaps_limit: int) -> dict:
    """Totals over the area, the districts' rows, every uncovered code, and the worst gaps."""
    category, kind, cluster = definition["category"], definition["kind"], definition["cluster"]
    rollup = coverage_by_division(
        category=category, group_by="district", kind=kind, district_code=definition["district_code"]
    )
    rows = [r for r in rollup["results"] if cluster is None or r["cluster"] == cluster]
    totals = {key: sum(r[key] for r in rows) for key in TOTALS}
    totals["covered_share"] = round(totals["covered"] / totals["demand_points"], 4) if totals["demand_points"] else None
    if rollup["rule"]["kind"] == CoverageStandard.Kind.CAPACITY:
        totals["beds"] = sum(r["beds"] for r in rows)
    gaps = coverage_gaps(
        category=category,
        kind=kind,
        district_code=definition["district_code"],
        cluster=cluster,
        limit=MAX_COMPARED_POINTS,
    )
    uncovered = [f["properties"]["code"] for f in gaps["features"]]
    gaps["features"] = gaps["features"][:gaps_limit]
    return {"rule": rollup["rule"], "totals": totals, "rows": rows, "uncovered": uncovered, "gaps": gaps}


DERIVED_SQL = """
SELECT f.id, t.code AS township_code, t.name AS township, d.code AS district_code, d.name AS district
  FROM {facility} f LEFT JOIN {division} t ON t.id = f.division_id LEFT JOIN {division} d ON d.id = f.district_id
 WHERE f.id = ANY(%(ids)s)
"""


def coverage_scenario(*, definition: dict, gaps_limit: int = 300) -> dict:
    """Coverage today and with the scenario (a definition from ``scenario_check``), and the change;
    nothing is written. Added facilities are open; a point in no township answers 400."""
    today = _measure(definition, gaps_limit=gaps_limit)
    sites = definition["add"]
    with transaction.atomic():
        sql.execute(sql.SQL("SELECT pg_advisory_xact_lock(%(key)s)"), {"key": SCENARIO_LOCK})
        created = Facility.objects.bulk_create(
            Facility(
                name=s["name"],
                category=s["category"],
                beds=s["beds"],
                status=Facility.Status.OPEN,
                point=Point(s["lon"], s["lat"], srid=WGS84),
                source="scenario",
            )
            for s in sites
        )
        new_ids = [f.pk for f in created]
        if new_ids:
            facilities_derive_divisions(facility_ids=new_ids)
        derived = {
            r["id"]: r
            for r in sql.rows(sql.compose(DERIVED_SQL, facility=Facility, division=Division), {"ids": new_ids})
        }
        for site, facility_id in zip(sites, new_ids, strict=True):
            if derived[facility_id]["township_code"] is None:
                raise InvalidParameter(
                    f"add[{site['index']}]: the point ({site['lon']}, {site['lat']}) is outside Chongqing"
                )
        closed = list(Facility.objects.filter(id__in=definition["close"]).values("id", "name", "category", "status"))
        Facility.objects.filter(id__in=definition["close"]).update(status=Facility.Status.CLOSED)
        coverage_nearest_refresh(facility_ids=new_ids + definition["close"])
        after = _measure(definition, gaps_limit=gaps_limit)
        transaction.set_rollback(True)  # a what-if: nothing stays
    before_set, after_set = set(today["uncovered"]), set(after["uncovered"])
    change = {
        key: after["totals"][key] - today["totals"][key] for key in ("covered", "population_covered", "elderly_covered")
    }
    if today["totals"]["covered_share"] is not None:
        change["covered_share"] = round(after["totals"]["covered_share"] - today["totals"]["covered_share"], 4)
    today_rows = {r["code"]: r for r in today["rows"]}
    return {
        "category": definition["category"],
        "rule": today["rule"],
        "area": {"district": definition["district_code"], "cluster": definition["cluster"]},
        "added": [
            {key: site[key] for key in ("index", "name", "category", "lon", "lat", "beds")}
            | {key: derived[fid][key] for key in ("township_code", "township", "district_code", "district")}
            for site, fid in zip(sites, new_ids, strict=True)
        ],
        "closed": closed,
        "today": today["totals"],
        "scenario": after["totals"],
        "change": change,
        "newly_covered": sorted(before_set - after_set),
        "newly_uncovered": sorted(after_set - before_set),
        "by_district": [
            {
                "code": r["code"],
                "name": r["name"],
                "cluster": r["cluster"],
                "demand_points": r["demand_points"],
                "covered_today": today_rows[r["code"]]["covered"],
                "covered": r["covered"],
                "covered_share_today": today_rows[r["code"]]["covered_share"],
                "covered_share": r["covered_share"],
            }
            for r in after["rows"]
        ],
        "gaps": after["gaps"],
        "is_synthetic": True,
    }


# --- saved scenarios --------------------------------------------------------------------------------


def _require_planner(user: AbstractBaseUser) -> None:
    if not user_has_role(user, PLANNER):
        raise Forbidden("only planners may use coverage scenarios")


@transaction.atomic
def scenario_save(*, user: AbstractBaseUser, name: str, definition: dict) -> Scenario:
    """Save a checked definition under a name, owned by ``user`` (a planner)."""
    _require_planner(user)
    name = (name or "").strip()
    if not name:
        raise InvalidParameter("name: give the scenario a name")
    return Scenario.objects.create(
        name=name[:128],
        owner=user,
        category=definition["category"],
        kind=definition["kind"] or "",
        district_code=definition["district_code"] or "",
        cluster=definition["cluster"] or "",
        added=[{k: s[k] for k in ("name", "category", "lon", "lat", "beds")} for s in definition["add"]],
        closed=definition["close"],
    )


def scenario_list(*, user: AbstractBaseUser) -> list[Scenario]:
    """A planner's own saved scenarios, newest first."""
    _require_planner(user)
    return list(Scenario.objects.filter(owner=user).select_related("owner"))


def scenario_get(*, user: AbstractBaseUser, scenario_id: int) -> Scenario:
    """A saved scenario by its id: any planner may open it (it is shared by link)."""
    _require_planner(user)
    scenario = Scenario.objects.select_related("owner").filter(id=scenario_id).first()
    if scenario is None:
        raise NotFound(f"no scenario {scenario_id}")
    return scenario


def scenario_definition(scenario: Scenario) -> dict:
    """A saved scenario's definition, checked again against today's data (a facility it closes
    may have been deleted since: that answers 400 naming it)."""
    return scenario_check(
        category=scenario.category,
        kind=scenario.kind or None,
        district_code=scenario.district_code or None,
        cluster=scenario.cluster or None,
        add=scenario.added,
        close=scenario.closed,
    )
