"""The read-only place-name answers (search, names near a point, a district's GeoJSON export) answer
Last-Modified from when the names, their variants or the divisions last changed, and 304 to an
If-Modified-Since not older than that, before any place is read."""

import datetime

import pytest
from django.utils import timezone
from django.utils.http import http_date

from boundaries.models import Division
from gis_portal.core.models import TableChange
from placenames.models import PlaceName, PlaceNameVariant

pytestmark = pytest.mark.django_db

AN_HOUR_AGO = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
URLS = [
    "/api/v1/placenames/search?q=观音桥",
    "/api/v1/placenames/nearby?lon=106.57&lat=29.55&limit=5",
    "/api/v1/placenames/export.geojson?district=500103",
]


@pytest.fixture
def settled():
    """Every tracked table (the place names' and variants' too) last changed an hour ago."""
    assert {"placenames_placename", "placenames_placenamevariant"} <= set(
        TableChange.objects.values_list("table", flat=True)
    )
    TableChange.objects.update(changed_at=AN_HOUR_AGO)
    return AN_HOUR_AGO


def _refuse(*args, **kwargs):
    raise AssertionError("places read for a 304")


@pytest.mark.parametrize("url", URLS)
def test_last_modified_and_304_before_the_places_are_read(api, settled, monkeypatch, url):
    first = api.get(url)
    assert first.status_code == 200 and first.json()["features"]
    assert first["Last-Modified"] == http_date(settled.timestamp())
    assert first["ETag"] and "public" in first["Cache-Control"]
    for reader in ("placename_search_text", "placename_nearby_text", "feature_texts"):
        monkeypatch.setattr(f"placenames.api.{reader}", _refuse)
    same = api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert same.status_code == 304 and same.content == b""
    assert same["Last-Modified"] == first["Last-Modified"] and "public" in same["Cache-Control"]
    monkeypatch.undo()
    older = api.get(url, HTTP_IF_MODIFIED_SINCE=http_date(settled.timestamp() - 60))
    assert older.status_code == 200 and older.content == first.content
    assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.parametrize(
    "write",
    [
        lambda: PlaceNameVariant.objects.create(
            placename=PlaceName.objects.get(name="观音桥街道"), kind="alias", name="观音桥老街"
        ),
        lambda: PlaceName.objects.filter(name="观音桥街道").update(pinyin="Guanyinqiao Jiedao (changed)"),
        lambda: Division.objects.filter(code="500105").update(name="江北区"),  # the hierarchy's tables
    ],
)
def test_a_write_is_not_answered_304(api, settled, write):
    url = URLS[0]
    stale = api.get(url)["Last-Modified"]
    write()
    after = api.get(url, HTTP_IF_MODIFIED_SINCE=stale)
    assert after.status_code == 200 and after.json()["features"]


def test_bad_input_is_400_not_304(api, settled):
    response = api.get("/api/v1/placenames/search?q=", HTTP_IF_MODIFIED_SINCE=http_date(settled.timestamp()))
    assert response.status_code == 400 and "ETag" not in response
