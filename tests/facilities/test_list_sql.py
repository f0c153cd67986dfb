"""The facilities list written by PostgreSQL answers exactly what the DRF serializer wrote (same
features, properties, order, paging), and is cacheable: ETag, 304 on If-None-Match, Cache-Control."""

import json

import pytest
from django.contrib.gis.geos import Polygon
from rest_framework.renderers import JSONRenderer

from facilities.api import FacilitySerializer
from facilities.models import Facility
from facilities.selectors import facility_list
from gis_portal.core.api import with_geojson

pytestmark = pytest.mark.django_db


def serializer_page(queryset, *, offset: int, size: int) -> list[dict]:
    collection = FacilitySerializer(with_geojson(queryset, "point")[offset : offset + size], many=True).data
    return json.loads(JSONRenderer().render(collection))["features"]


@pytest.mark.parametrize(
    ("params", "queryset", "offset"),
    [
        ({"page_size": 2000, "page": 3}, lambda q: q, 4000),
        ({"category": "elder_institution", "page_size": 500}, lambda q: q.filter(category="elder_institution"), 0),
        ({"district": "500103", "bbox": "106.4,29.4,106.7,29.7"}, lambda q: q.filter(district__code="500103"), 0),
    ],
)
def test_sql_list_equals_the_serializer(api, params, queryset, offset):
    body = api.get("/api/v1/facilities", params).json()
    expected_all = queryset(facility_list())
    if "bbox" in params:
        expected_all = expected_all.filter(point__coveredby=Polygon.from_bbox((106.4, 29.4, 106.7, 29.7)))
    size = params.get("page_size", 1000)
    assert body["count"] == expected_all.count() > 0
    assert body["features"] == serializer_page(expected_all, offset=offset, size=size)
    assert list(body) == ["type", "count", "next", "previous", "features"]
    assert (body["next"] is not None) == (offset + size < body["count"])


def test_list_has_etag_and_answers_304(api):
    first = api.get("/api/v1/facilities", {"category": "funeral_home"})
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
    again = api.get("/api/v1/facilities", {"category": "funeral_home"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    other = api.get("/api/v1/facilities", {"category": "cemetery"}, HTTP_IF_NONE_MATCH=etag)
    assert other.status_code == 200 and other["ETag"] != etag
    # A change to the data changes the answer and its tag.
    Facility.objects.filter(category="funeral_home").update(name="改名殡仪馆")
    changed = api.get("/api/v1/facilities", {"category": "funeral_home"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
