"""The coverage gaps and points (GeoJSON, read-only) are cacheable: an ETag that follows the answer,
304 on If-None-Match, Cache-Control public; their CSV exports (streamed) carry none of it."""

import pytest

from facilities.models import Facility
from facilities.services import facility_close

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["gaps", "points"])
def test_coverage_answers_have_an_etag_and_answer_304(api, path):
    url = f"/api/v1/coverage/{path}"
    params = {"category": "elder_station", "limit": 50}  # the whole region: it has gaps
    first = api.get(url, params)
    assert first.status_code == 200 and first.json()["features"]
    etag = first["ETag"]
    assert "public" in first["Cache-Control"] and "max-age=300" in first["Cache-Control"]
    assert "Last-Modified" not in first  # the coverage tables' changes are not recorded
    again = api.get(url, params, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    # One district is another answer.
    assert api.get(url, params | {"district": "500105"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    # Closing 渝中's stations (the service keeps the nearest-facility table current) changes the
    # answer (its totals at least), so the old tag is answered in full.
    for station in Facility.objects.filter(category="elder_station", district__code="500103", status="open"):
        facility_close(facility=station)
    changed = api.get(url, params, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_csv_export_carries_no_etag(api):
    response = api.get("/api/v1/coverage/gaps", {"category": "elder_station", "district": "500103", "export": "csv"})
    assert response.status_code == 200 and response.streaming
    assert "ETag" not in response and "Cache-Control" not in response
