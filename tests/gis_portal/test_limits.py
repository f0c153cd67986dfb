"""The limits that keep one client from holding the service (security review, findings 5-7 and 11):
page sizes, exports, throttles per address and per user counted in the shared Redis, the heavy-request
bulkhead, the public statement timeout, request bodies refused before they are read, and no
self-service password reset."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from gis_portal.core.throttles import HeavyRequestSlot
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def rates(**rates: str) -> dict:
    framework = settings.REST_FRAMEWORK
    return {**framework, "DEFAULT_THROTTLE_RATES": {**framework["DEFAULT_THROTTLE_RATES"], **rates}}


def status_read(response) -> int:
    """The status, after reading a streamed body whole (a server does; it releases the slot)."""
    if response.streaming:
        response.getvalue()
    return response.status_code


def test_page_size_is_capped_and_no_division_polygon_is_read(api):
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/facilities", {"page_size": 20000}).json()
    assert len(body["features"]) == 2000 and body["next"]
    assert body["features"][0]["properties"]["district"]  # names come along, polygons don't
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"boundaries_division"."geom"' not in sql


def test_facility_export_streams_every_row(api):
    response = api.get("/api/v1/facilities", {"export": "csv", "category": "funeral_home"})
    assert response.status_code == 200 and response.streaming
    lines = response.getvalue().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,name,category") and lines[0].endswith(",lon,lat")
    assert len(lines) == 1 + 35  # the 35 generated funeral homes


def test_json_points_are_capped_exports_are_not(api):
    assert_error(api.get("/api/v1/coverage/points", {"category": "elder_station", "limit": 2001}), 400)
    csv = api.get("/api/v1/coverage/points", {"category": "elder_station", "limit": 3000, "export": "csv"})
    assert len(csv.getvalue().decode("utf-8-sig").splitlines()) == 1 + 3000


def test_heavy_requests_have_a_budget_per_address_and_per_user(api, settings):
    settings.REST_FRAMEWORK = rates(heavy_anon="2/minute", heavy_user="3/minute")
    query = {"export": "csv", "category": "funeral_home"}
    assert [status_read(api.get("/api/v1/facilities", query)) for _ in range(3)] == [200, 200, 429]
    first, second = (User.objects.create_user(f"planner{i}", password="x") for i in (1, 2))
    signed_in = APIClient()
    signed_in.force_authenticate(first)
    assert [status_read(signed_in.get("/api/v1/facilities", query)) for _ in range(4)] == [200, 200, 200, 429]
    signed_in.force_authenticate(second)
    assert status_read(signed_in.get("/api/v1/facilities", query)) == 200  # a budget of their own
    # The suggestion solver and the report are heavy too.
    assert api.get("/api/v1/coverage/suggest", {"category": "funeral_home", "k": 1}).status_code == 429
    assert api.get("/coverage/report", {"category": "funeral_home", "k": 0}).status_code == 429


def test_forwarded_for_does_not_change_who_is_counted(api):
    # token: 10/minute per address; a rotating X-Forwarded-For is not an address (NUM_PROXIES=0).
    answers = [
        api.post(
            "/api/v1/auth/token", {"username": f"nobody{i}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        ).status_code
        for i in range(11)
    ]
    assert answers == [400] * 10 + [429]


def test_heavy_requests_wait_their_turn(api, settings):
    settings.HEAVY_REQUESTS_AT_ONCE = 1
    with HeavyRequestSlot():  # another worker's export is running
        busy = api.get("/api/v1/facilities", {"export": "csv", "category": "funeral_home"})
        assert_error(busy, 503, "busy")
        assert busy["Retry-After"] == "5"
    # A client that goes away mid-stream gives its slot back (the server closes the response).
    leaving = api.get("/api/v1/facilities", {"export": "csv", "category": "funeral_home"})
    assert leaving.status_code == 200
    request_finished.disconnect(close_old_connections)  # as the test client does: keep the test's connection
    try:
        leaving.close()
    finally:
        request_finished.connect(close_old_connections)
    assert status_read(api.get("/api/v1/facilities", {"export": "csv", "category": "funeral_home"})) == 200


def test_a_public_query_past_its_timeout_answers_503(api, settings):
    settings.PUBLIC_STATEMENT_TIMEOUT_MS = 1
    slow = api.get("/api/v1/coverage", {"category": "elder_station", "group_by": "cluster"})
    assert_error(slow, 503, "busy")
    assert slow["Retry-After"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, api):
    fifty_mb = str(50 * 1024 * 1024)
    page = client.post("/accounts/login/", data=b"x", content_type="application/octet-stream", CONTENT_LENGTH=fifty_mb)
    assert page.status_code == 413 and page["Connection"] == "close"
    too_big_upload = str(settings.SURVEY_UPLOAD_LIMITS["max_bytes"] + 1024 * 1024)
    answer = api.post("/api/v1/survey-uploads", data=b"x", content_type="multipart/form-data; boundary=x",
                      CONTENT_LENGTH=too_big_upload)  # fmt: skip
    assert_error(answer, 413, "too_large")


def test_no_self_service_password_reset(client):
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.post("/accounts/password_reset/", {"email": "a@example.com"}).status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_workers_count_one_throttle(django_db_setup):
    """Two gunicorn workers over the test database and the session's Redis prefix: the token
    throttle's 11th request is refused whichever worker answers (each counted alone, the first
    refusal would come near request 21)."""
    db = settings.DATABASES["default"]
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gis_portal.portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import http.client

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        statuses = []
        for i in range(11):
            # A new connection each time, so that both workers take requests.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/api/v1/auth/token", body=f"username=w{i}&password=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            statuses.append(conn.getresponse().status)
            conn.close()
        assert statuses == [400] * 10 + [429]
    finally:
        server.terminate()
        server.wait(timeout=10)
