"""Facilities and coverage before and after, in the impact of every kind of proposal (measured by the
facilities on ``division_change_impact``, as a what-if that writes nothing): the open facilities of
each unit by category, counted here from the fixtures with the ORM; the coverage of each active
standard over the units concerned (a township-level presence rule counted by hand from those counts,
a radius rule unchanged since no village or facility moves, a kind filter that drops a town turned
street); and the proposal's page shows them as text."""

from collections import Counter

import pytest
from django.db.models import Count

from boundaries.models import Division
from facilities.models import Facility
from tests.boundaries.test_proposals import GUNAN, URL, XINSHENG, client_for, merger, user_with_role
from tests.boundaries.test_proposals_page import signed_in
from tests.boundaries.test_proposals_split_apply import _cut_off, _first_split

pytestmark = pytest.mark.django_db


def open_counts(**where) -> Counter:
    rows = Facility.objects.filter(status="open", **where).values_list("category").annotate(n=Count("id"))
    return Counter(dict(rows))


def as_counter(by_category: list[dict]) -> Counter:
    return Counter({c["category"]: c["n"] for c in by_category})


def coverage(impact: dict, category: str) -> dict:
    [entry] = [c for c in impact["facilities"]["coverage"] if c["category"] == category]
    return entry


def test_a_merger_adds_up_the_facilities_and_one_centre_covers_the_merged_unit():
    planner = user_with_role("planner-f", "planner")
    units = {code: Division.objects.get(code=code) for code in (GUNAN, XINSHENG)}
    counts = {code: open_counts(division=unit) for code, unit in units.items()}
    assert sum(counts[GUNAN].values()) > 0 and sum(counts[XINSHENG].values()) > 0
    divisions, placed = Division.objects.count(), dict(Facility.objects.values_list("id", "division_id"))
    pk = merger(client_for(planner)).json()["id"]
    response = client_for(planner).post(f"{URL}/{pk}/submit")
    assert response.status_code == 200, response.content
    impact = response.json()["impact"]
    facilities = impact["facilities"]

    before = {u["code"]: as_counter(u["by_category"]) for u in facilities["before"]["units"]}
    assert before == counts
    [after] = facilities["after"]["units"]
    assert after["name"] == "南州街道" and after["code"].startswith("500110")
    assert as_counter(after["by_category"]) == counts[GUNAN] + counts[XINSHENG]
    assert after["total"] == sum((counts[GUNAN] + counts[XINSHENG]).values())
    assert as_counter(facilities["after"]["by_category"]) == as_counter(facilities["before"]["by_category"])

    # One elder-care centre per township/street: two units before, one after, covered if any had one.
    centres = coverage(impact, "elder_centre")
    with_centre = sum(1 for code in units if counts[code]["elder_centre"] >= 1)
    assert (centres["before"]["demand_points"], centres["before"]["covered"]) == (2, with_centre)
    assert (centres["after"]["demand_points"], centres["after"]["covered"]) == (1, int(with_centre > 0))
    # Stations within 1,000 m of each community: no community and no station moves.
    stations = coverage(impact, "elder_station")
    communities = Division.objects.filter(parent__in=units.values(), kind="community", point__isnull=False)
    assert stations["before"]["demand_points"] == communities.count()
    assert stations["before"] == stations["after"]

    # A what-if: nothing stays.
    assert Division.objects.count() == divisions
    assert dict(Facility.objects.values_list("id", "division_id")) == placed
    assert not Division.objects.filter(code=after["code"]).exists()

    page = signed_in(planner).get(f"/divisions/proposals/{pk}/").content.decode()
    assert "设施及覆盖（调整前后）" in page and 'id="impact-coverage"' in page
    assert f"{centres['after']['covered']} / 1" in page


def test_a_split_counts_the_facilities_on_each_side_of_the_line():
    planner = user_with_role("planner-g", "planner")
    township, x, pk = _first_split(client_for(planner))
    impact = client_for(planner).get(f"{URL}/{pk}").json()["impact"]
    seat = township.point
    sides = {True: Counter(), False: Counter()}
    for facility in Facility.objects.filter(division=township, status="open"):
        sides[_cut_off(facility.point, seat=seat, x=x)][facility.category] += 1
    kept, new = impact["facilities"]["after"]["units"]
    assert kept["code"] == township.code and new["name"] == "新分街道"
    assert (as_counter(kept["by_category"]), as_counter(new["by_category"])) == (sides[False], sides[True])
    centres = coverage(impact, "elder_centre")
    assert centres["before"]["demand_points"] == 1 and centres["after"]["demand_points"] == 2
    expected = int(sides[False]["elder_centre"] >= 1) + int(sides[True]["elder_centre"] >= 1)
    assert centres["after"]["covered"] == expected


def test_a_town_turned_street_leaves_the_rural_cemetery_rule():
    """Public cemeteries are one per rural township (kinds town and township): a street is not held to it."""
    planner = user_with_role("planner-h", "planner")
    town = Division.objects.filter(level="township", kind="town", name__endswith="镇").order_by("code").first()
    pk = client_for(planner).post(URL, {"kind": "town_to_street", "units": [town.code]}, format="json").json()["id"]
    impact = client_for(planner).post(f"{URL}/{pk}/submit").json()["impact"]
    cemeteries = coverage(impact, "cemetery")
    has_one = int(open_counts(division=town)["cemetery"] >= 1)
    assert (cemeteries["before"]["demand_points"], cemeteries["before"]["covered"]) == (1, has_one)
    assert (cemeteries["after"]["demand_points"], cemeteries["after"]["covered"]) == (0, 0)
    assert (
        impact["facilities"]["before"]["units"][0]["by_category"]
        == impact["facilities"]["after"]["units"][0]["by_category"]
    )
    assert Division.objects.get(pk=town.pk).kind == "town"
