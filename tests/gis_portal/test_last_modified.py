"""Read-only GeoJSON lists answer Last-Modified from when their tables last changed (a statement
trigger records every write, raw SQL too) and 304 to an If-Modified-Since not older than that."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.http import http_date, parse_http_date

from boundaries.models import Division, Marker
from facilities.models import Facility
from gis_portal.core.changes import query_tables, queryset_changed_at, tables_changed_at, tables_version
from gis_portal.core.models import TableChange

pytestmark = pytest.mark.django_db

AN_HOUR_AGO = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
URLS = ["/api/v1/divisions?level=district", "/api/v1/markers?page_size=50", "/api/v1/facilities?page_size=20"]


@pytest.fixture
def settled():
    """Every tracked table last changed an hour ago."""
    TableChange.objects.update(changed_at=AN_HOUR_AGO)
    return AN_HOUR_AGO


@pytest.mark.parametrize("url", URLS)
def test_last_modified_and_304_on_if_modified_since(api, settled, url):
    first = api.get(url)
    assert first.status_code == 200 and first["Last-Modified"] == http_date(settled.timestamp())
    same = api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert same.status_code == 304 and same.content == b""
    assert same["Last-Modified"] == first["Last-Modified"] and "public" in same["Cache-Control"]
    older = api.get(url, HTTP_IF_MODIFIED_SINCE=http_date(settled.timestamp() - 60))
    assert older.status_code == 200 and older.json()["features"]
    # If-None-Match decides when both are sent: a tag that does not match is answered in full.
    both = api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"], HTTP_IF_NONE_MATCH='"other"')
    assert both.status_code == 200


def test_boundary_lines_change_with_the_day(api, settled):
    response = api.get("/api/v1/boundary-lines?level=county")
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    assert parse_http_date(response["Last-Modified"]) == int(max(settled, midnight).timestamp())


def test_a_write_is_not_answered_304(api, settled):
    url = "/api/v1/markers?page_size=50"
    stale = api.get(url)["Last-Modified"]
    marker = Marker.objects.order_by("line__code", "sequence").first()
    Marker.objects.filter(pk=marker.pk).update(status="lost" if marker.status != "lost" else "intact")
    assert TableChange.objects.get(table="boundaries_marker").changed_at > settled
    after = api.get(url, HTTP_IF_MODIFIED_SINCE=stale)
    assert after.status_code == 200
    # Within the second of the write no date is announced (a second write in it would keep it).
    if "Last-Modified" in after:
        assert parse_http_date(after["Last-Modified"]) > parse_http_date(stale)


def test_raw_sql_and_truncate_like_writes_are_recorded(settled):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE facilities_facility SET beds = beds WHERE id = (SELECT min(id) FROM facilities_facility)"
        )
    assert TableChange.objects.get(table="facilities_facility").changed_at > settled
    assert TableChange.objects.get(table="boundaries_division").changed_at == settled


def test_tables_of_a_query_and_an_untracked_one(settled):
    tables = query_tables(Facility.objects.filter(division__code="500103001").select_related("district").query)
    assert tables == {"facilities_facility", "boundaries_division"}
    assert queryset_changed_at(Division.objects.all()) == settled
    assert tables_changed_at(["boundaries_division", "auth_user"]) is None  # auth_user has no trigger


def test_every_writing_statement_raises_its_tables_version():
    """The version counts statements (the row lock orders concurrent writers), so a committed write
    always changes ``tables_version``; this transaction's own writes name no shared state."""
    record = TableChange.objects.get(table="boundaries_marker")
    start = record.version
    assert tables_version(["boundaries_marker"]) == f"{start}@{record.changed_at.timestamp():.6f}"
    assert tables_version(["boundaries_marker", "auth_user"]) is None  # auth_user has no trigger
    marker = Marker.objects.order_by("number").first()
    Marker.objects.filter(pk=marker.pk).update(status=marker.status)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE boundaries_marker SET status = status WHERE false")  # no rows: still a write
    assert TableChange.objects.get(table="boundaries_marker").version == start + 2
    assert tables_version(["boundaries_marker"]) is None
