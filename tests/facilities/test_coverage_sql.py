"""The coverage gaps and points of the API are written by PostgreSQL: the answer is the collection
``coverage_points`` gives (same members and features, same keys in the same order, metres with their
decimal), for each kind of rule."""

import json

import pytest

from facilities.selectors import coverage_gaps, coverage_points

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "category", "kind", "district"),
    [
        ("gaps", "elder_station", "radius", None),
        ("points", "elder_station", "radius", "500103"),
        ("gaps", "funeral_home", "presence", None),
        ("points", "elder_centre", "presence", "500240"),
        ("points", "elder_institution", "capacity", None),
    ],
)
def test_api_answer_is_the_selectors_collection(api, path, category, kind, district):
    params = {"category": category, "kind": kind, "limit": 300} | ({"district": district} if district else {})
    response = api.get(f"/api/v1/coverage/{path}", params)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    select = coverage_gaps if path == "gaps" else coverage_points
    expected = select(category=category, kind=kind, district_code=district, limit=300)
    assert body == expected and list(body) == list(expected)
    assert body["features"], "a case with no point would prove nothing"
    assert [f["properties"]["rank"] for f in body["features"]] == list(range(1, len(body["features"]) + 1))
    first = body["features"][0]
    assert list(first) == ["type", "geometry", "properties"] and first["geometry"]["type"] == "Point"
    extra = {"radius": ["radius_m"], "presence": ["facilities"], "capacity": ["beds", "beds_required"]}[kind]
    assert list(first["properties"])[-len(extra) :] == extra
    # Metres to 0.1 m keep their decimal in the text (1000.0, not 1000), as the Python-built answer did.
    text = response.content.decode()
    if kind == "radius":
        assert '"radius_m" : 1000.0' in text or '"radius_m":1000.0' in text
    assert isinstance(first["properties"]["nearest_facility_m"], float | None)
