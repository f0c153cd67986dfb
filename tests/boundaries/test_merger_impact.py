"""The impact of a proposed merger of townships, computed before anything is decided: the sums add
up, the line between them is retired, the lines to each neighbour join, and bad proposals are 400
naming the reason. (The proposal workflow itself is not built yet.)"""

import pytest
from django.db.models import Sum

from boundaries.models import BoundaryLine, Division
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
URL = "/api/v1/division-proposals/merger-impact"
GUNAN, XINSHENG = "500110001", "500110006"  # 古南街道 and 新盛街道 (綦江区), adjacent in the generated polygons


def test_merger_impact_adds_up(api):
    body = api.get(URL, {"codes": f"{XINSHENG},{GUNAN}", "unit": "town"}).json()
    units = Division.objects.filter(code__in=[GUNAN, XINSHENG])
    assert [u["code"] for u in body["units"]] == [GUNAN, XINSHENG]
    assert body["area_m2"] == pytest.approx(sum(u.area_m2 for u in units), abs=1)
    # The townships tile the district: the union's area is the sum of theirs.
    assert body["union_area_m2"] == pytest.approx(body["area_m2"], rel=1e-6)
    villages = Division.objects.filter(parent__in=units)
    assert body["population"] == villages.aggregate(n=Sum("population"))["n"]
    assert body["elderly_population"] == villages.aggregate(n=Sum("elderly_population"))["n"]
    assert body["villages"] == villages.count() == sum(u["villages"] for u in body["units"])
    assert body["population"] == sum(u["population"] for u in body["units"])
    # The line between them is retired; the lines to each neighbour join into one.
    assert [line["code"] for line in body["lines_retired"]] == [f"{GUNAN}-{XINSHENG}"]
    touching = BoundaryLine.objects.filter(level="township").filter(code__contains=GUNAN) | BoundaryLine.objects.filter(
        level="township", code__contains=XINSHENG
    )
    outside = [line for line in touching if line.code != f"{GUNAN}-{XINSHENG}"]
    joined = body["lines_joined"]
    assert sum(len(group["lines"]) for group in joined) == len(outside)
    assert sum(group["length_m"] for group in joined) == pytest.approx(sum(line.length_m for line in outside), abs=1)
    assert len({group["neighbour_code"] for group in joined}) == len(joined)
    assert all("last_inspected" in line and "overdue" in line for group in joined for line in group["lines"])
    assert [n["name"] for n in body["names_that_change"]] == ["古南街道", "新盛街道"]
    # The 1984 town standard: the population is known, the seat's figures must be stated.
    assert body["standards"]["result"] == "figures_missing"
    assert body["population"] >= 20000  # so only the "over 20,000" alternative and the county seat remain open
    assert body["standards"]["missing"] == ["county_seat", "seat_nonagricultural_share"]
    assert body["is_synthetic"] is True


def test_bad_mergers_are_400_naming_the_reason(api):
    across = api.get(URL, {"codes": f"{GUNAN},500103001"})
    assert_error(across, 400)
    assert "district-level change" in across.json()["error"]["message"]
    # Two townships of one district that do not touch.
    apart = next(
        code
        for code in Division.objects.filter(parent__code="500110", level="township").values_list("code", flat=True)
        if code != GUNAN and not BoundaryLine.objects.filter(code__in=[f"{GUNAN}-{code}", f"{code}-{GUNAN}"]).exists()
    )
    response = api.get(URL, {"codes": f"{GUNAN},{apart}"})
    assert_error(response, 400)
    assert "one area" in response.json()["error"]["message"]
    assert_error(api.get(URL, {"codes": GUNAN}), 400)
    assert_error(api.get(URL, {"codes": f"{GUNAN},500110999"}), 400)
    assert_error(api.get(URL, {"codes": "abc,def"}), 400)
    assert_error(api.get(URL, {"codes": f"{GUNAN},{XINSHENG}", "unit": "county"}), 400)
