"""The divisions, boundary-line and marker lists are cacheable: ETag, 304 on If-None-Match, Cache-Control."""

import pytest

from boundaries.models import Marker

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["/api/v1/divisions?level=district", "/api/v1/boundary-lines?level=county", "/api/v1/markers?page_size=50"]
)
def test_lists_have_etag_and_answer_304(api, url):
    first = api.get(url)
    assert first.status_code == 200 and "public" in first["Cache-Control"]
    assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_change_changes_the_tag(api):
    url = "/api/v1/markers?page_size=50"
    etag = api.get(url)["ETag"]
    first = Marker.objects.order_by("line__code", "sequence").first()
    Marker.objects.filter(pk=first.pk).update(status="lost" if first.status != "lost" else "intact")
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
