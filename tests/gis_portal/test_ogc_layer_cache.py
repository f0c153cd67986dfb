"""Whole OGC layers kept in the shared cache (gis_portal.portal.ogc.layer_cache): the pages a kept
layer answers are the database's, byte for byte but the timeStamp; a write committed by another
session gives the layer a new key at once, and this transaction's own uncommitted writes are read
afresh; selections are never kept (their pages are named by their state for If-None-Match too);
an evicted chunk, a layer being read by another worker, a layer over the size limit and a Redis
that is down all fall back to the database. A page of a layer not kept yet streams from the
database, and the layer is kept once it has gone."""

import json

import psycopg2
import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from facilities.models import Facility
from gis_portal.core.changes import tables_version
from gis_portal.portal.ogc import collections as layers
from gis_portal.portal.ogc.layer_cache import CHUNK, TOO_LARGE, layer_keep, layer_key
from gis_portal.portal.ogc.selectors import CRSS, items_query, items_state

pytestmark = pytest.mark.django_db

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FACILITIES = "/ogc/collections/facilities/items"
# Pages that start and end inside chunks, across chunk boundaries, the last one and past it.
PAGES = [
    {"limit": 2500},
    {"limit": 2500, "offset": 2500},
    {"limit": 2, "offset": CHUNK - 1},
    {"limit": 10_000, "offset": 6029},
    {"limit": 5, "offset": 16_027},
    {"limit": 5, "offset": 20_000},
]


def page_of(response) -> dict:
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    page = json.loads(content)
    page.pop("timeStamp")
    return page


def key_of(collection_id: str, **params) -> str | None:
    query = items_query(layers.collection_get(collection_id), crs=CRSS[CRS84], today=timezone.localdate(), **params)
    state = items_state(query)
    return None if state is None else layer_key(query, state)


def facilities_key(**params) -> str | None:
    return key_of("facilities", **params)


def test_a_kept_layer_answers_what_the_database_does(client, settings, django_assert_num_queries):
    settings.OGC_LAYER_CACHE_SECONDS = 0  # nothing kept: every page read from the database
    expected = [page_of(client.get(FACILITIES, params)) for params in PAGES]
    assert [len(p["features"]) for p in expected] == [2500, 2500, 2, 10_000, 2, 0]
    settings.OGC_LAYER_CACHE_SECONDS = 300
    first = client.get(FACILITIES, PAGES[0])
    assert first.streaming and page_of(first) == expected[0]  # from the database; then the layer is kept
    assert cache.get(facilities_key()) == Facility.objects.count() == 16_029
    for params, page in zip(PAGES, expected, strict=True):
        with django_assert_num_queries(1):  # the tables' state; the features come from the cache
            response = client.get(FACILITIES, params)
        assert not response.streaming and page_of(response) == page, params
        assert response["ETag"].startswith('W/"') and "public" in response["Cache-Control"]


def test_a_write_committed_elsewhere_is_answered_at_once(client):
    url = FACILITIES + "?limit=10"
    before = client.get(url)
    feature = page_of(before)["features"][0]
    kept = client.get(url)
    assert not kept.streaming and page_of(kept)["features"][0] == feature and kept["ETag"] == before["ETag"]
    other = psycopg2.connect(**connection.get_connection_params())  # another session, committing
    other.autocommit = True
    try:
        with other.cursor() as cursor:
            cursor.execute("UPDATE facilities_facility SET name = name || '（迁址）' WHERE id = %s", [feature["id"]])
        after = client.get(url)
        assert after.streaming  # a new key: read from the database
        assert page_of(after)["features"][0]["properties"]["name"] == feature["properties"]["name"] + "（迁址）"
        assert after["ETag"] != before["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    finally:
        with other.cursor() as cursor:
            cursor.execute(
                "UPDATE facilities_facility SET name = %s WHERE id = %s", [feature["properties"]["name"], feature["id"]]
            )
        other.close()


def test_this_transactions_own_writes_are_read_afresh_and_not_kept(client):
    url = FACILITIES + "?limit=10"
    feature = page_of(client.get(url))["features"][0]
    assert facilities_key() is not None
    Facility.objects.filter(pk=feature["id"]).update(name="新建养老服务中心")
    assert tables_version(["facilities_facility"]) is None and facilities_key() is None
    after = client.get(url)
    assert "ETag" not in after and page_of(after)["features"][0]["properties"]["name"] == "新建养老服务中心"


def test_if_none_match_and_what_is_never_kept(client):
    url = "/ogc/collections/townships/items?limit=100&simplify=50"
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"].startswith('W/"')
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(url + "&offset=100", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200  # another page
    # A selection is named by its state too (304), but read from the database and never kept.
    box = {"limit": 10, "bbox": "106,29,107,30"}
    selected = client.get("/ogc/collections/townships/items", box)
    assert selected.streaming and selected["ETag"] not in (first["ETag"], None)
    assert client.get("/ogc/collections/townships/items", box, HTTP_IF_NONE_MATCH=selected["ETag"]).status_code == 304
    other = client.get("/ogc/collections/townships/items", {**box, "bbox": "106,29,107,30.5"})
    assert other["ETag"] != selected["ETag"]
    for params in ({"filter": "code LIKE '500103%'"}, {"simplify": 37}):
        response = client.get("/ogc/collections/townships/items", {"limit": 10, **params})
        page_of(response)
        assert response.streaming and response["ETag"], params
        assert client.get("/ogc/collections/townships/items", {"limit": 10, **params}).streaming, params
    assert facilities_key(bbox=(106, 29, 107, 30)) is None and key_of("townships", simplify_m=37) is None
    # Pages (HTML) and the coverage gaps (computed per request) have no ETag.
    assert "ETag" not in client.get("/ogc/collections/townships/items", {"limit": 10, "f": "html"})
    gaps = client.get("/ogc/collections/coverage-gaps-elder_station-radius/items", {"limit": 5})
    assert gaps.status_code == 200 and "ETag" not in gaps
    # The key names the layer's SQL: datetime=../.. is the whole layer of facilities, but every
    # dated version of the townships (another layer).
    assert facilities_key(dates=(None, None)) == facilities_key()
    assert None is not key_of("townships", dates=(None, None)) != key_of("townships")
    # A point has nothing to simplify: any tolerance is the layer without one.
    assert facilities_key(simplify_m=37) == facilities_key()


@pytest.mark.parametrize("fault", ["evicted", "being_read", "too_large", "redis_down"])
def test_a_page_the_cache_cannot_give_is_read_from_the_database(client, settings, fault):
    params = {"limit": 3, "offset": 1500}
    settings.OGC_LAYER_CACHE_SECONDS = 0
    expected = page_of(client.get(FACILITIES, params))
    settings.OGC_LAYER_CACHE_SECONDS = 300
    key = facilities_key()
    if fault == "evicted":
        page_of(client.get(FACILITIES, {"limit": 1}))  # kept
        cache.delete(f"{key}:1")
    elif fault == "being_read":
        cache.add(f"{key}:reading", 1, 60)  # another worker is reading the layer
    elif fault == "too_large":
        settings.OGC_LAYER_CACHE_MAX_BYTES = 100_000
    else:
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    response = client.get(FACILITIES, params)
    assert page_of(response) == expected
    assert response.streaming
    if fault == "evicted":
        assert cache.get(f"{key}:1") is not None  # once the page had gone, the layer was kept again
        assert not client.get(FACILITIES, params).streaming
    elif fault == "being_read":
        assert cache.get(key) is None
    elif fault == "too_large":
        assert cache.get(key) == TOO_LARGE and not layer_keep(key, None)  # not read again for nothing
