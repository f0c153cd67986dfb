"""A split along a drawn line: the impact gives the two parts (their areas add up to the township's,
their villages to its villages); a line that does not cut the unit in two answers 400 naming the
reason. Applying a split: ``test_proposals_split_apply``."""

import pytest
from django.db import connection
from django.db.models import Sum

from boundaries.models import Division
from tests.boundaries.test_proposals import URL, client_for, user_with_role
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def line(*points) -> dict:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def across(township: Division) -> dict:
    """A north-south line through the median village of the township, past its extent."""
    xs = sorted(v.point.x for v in township.children.filter(point__isnull=False))
    x = (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    _xmin, ymin, _xmax, ymax = township.geom.extent
    return line((x, ymin - 0.01), (x, ymax + 0.01))


def draft(client, township, split_line, **fields):
    body = {"kind": "split", "units": [township.code], "new_name": "新分街道", "new_kind": "street"}
    return client.post(URL, body | {"split_line": split_line} | fields, format="json")


def test_a_split_line_that_cuts_in_two_gives_the_parts_that_add_up():
    client = client_for(user_with_role("planner-s", "planner"))
    for township in Division.objects.filter(parent__code="500110", level="township").order_by("code"):
        pk = draft(client, township, across(township)).json()["id"]
        response = client.post(f"{URL}/{pk}/submit")
        if response.status_code == 200:
            break
    else:
        pytest.fail("no township of 綦江区 is cut in two by a north-south line through its median village")
    impact = response.json()["impact"]
    remaining, new = impact["parts"]
    assert (remaining["part"], new["part"]) == ("remaining", "new_unit")
    with connection.cursor() as cursor:  # the township's geodesic area, as the parts' are measured
        cursor.execute("SELECT ST_Area(geom::geography) FROM boundaries_division WHERE id = %s", [township.pk])
        [(area_m2,)] = cursor.fetchall()
    # The cut adds a vertex on each edge it crosses, on the straight edge in lon/lat; measured on the
    # spheroid, the two edges through it run slightly off the one geodesic before (here 0.006%).
    assert remaining["area_m2"] + new["area_m2"] == pytest.approx(area_m2, rel=1e-4)
    villages = township.children.all()
    assert (
        remaining["villages"] + new["villages"] == villages.count() and min(remaining["villages"], new["villages"]) > 0
    )
    assert remaining["population"] + new["population"] == villages.aggregate(n=Sum("population"))["n"]
    assert response.json()["split_line"]["type"] == "LineString"


def test_a_split_line_that_does_not_cut_the_unit_in_two_is_400():
    planner = user_with_role("planner-t", "planner")
    client = client_for(planner)
    township = Division.objects.get(code="500110001")
    p = township.point
    for split_line in (
        line((p.x - 0.001, p.y), (p.x + 0.001, p.y)),  # inside, touching no edge
        line((p.x + 5, p.y), (p.x + 5.1, p.y)),  # far away
    ):
        pk = draft(client, township, split_line).json()["id"]
        response = client.post(f"{URL}/{pk}/submit")
        assert_error(response, 400)
        assert "does not cut 古南街道 in two" in response.json()["error"]["message"]
    assert_error(draft(client, township, None), 400)
    assert_error(draft(client, township, {"type": "Point", "coordinates": [p.x, p.y]}), 400)
    assert_error(draft(client, township, line((p.x, p.y), (p.x + 1, p.y)), kind="merge"), 400)
