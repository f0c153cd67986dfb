"""Place-name search answers are cacheable: an ETag that follows the answer, 304 on If-None-Match."""

import pytest

from placenames.models import PlaceName

pytestmark = pytest.mark.django_db


def test_search_has_etag_and_answers_304(api):
    first = api.get("/api/v1/placenames/search", {"q": "渝中"})
    assert first.status_code == 200 and first.json()["features"]
    etag = first["ETag"]
    assert "public" in first["Cache-Control"]
    again = api.get("/api/v1/placenames/search", {"q": "渝中"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert api.get("/api/v1/placenames/search", {"q": "沙坪坝"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    PlaceName.objects.filter(name="渝中区").update(pinyin="Yuzhong Qu (changed)")
    changed = api.get("/api/v1/placenames/search", {"q": "渝中"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    bad = api.get("/api/v1/placenames/search", {"q": ""})
    assert bad.status_code == 400 and "ETag" not in bad
