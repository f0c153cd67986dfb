"""The database goes away under a running server (gunicorn from gunicorn.conf.py, over the test
database) and comes back.

PostgreSQL is shared on this machine, so a restart is played on the test database alone: its
connections are ended (pg_terminate_backend, what a restart does to them) and new ones refused
(ALLOW_CONNECTIONS false, as a database that is starting up refuses them), then allowed again.
During the outage the API answers 503 JSON and the pages a 503 page, both with Retry-After, at
once (no 500, no hang); afterwards the same workers answer normally, without a restart."""

import time

import pytest
import requests

from tests.faults.conftest import APP_NAME, allow_connections, terminate_backends

LOCATE = ("/api/v1/locate", {"lon": 106.5767, "lat": 29.5575})  # 渝中区
RECOVERY_S = 5.0


def get(server, path, params=None):
    started = time.monotonic()
    response = requests.get(f"{server.url}{path}", params=params, timeout=15)
    response.elapsed_s = time.monotonic() - started
    return response


def test_killed_connections_are_reopened_without_an_error(gunicorn_server, admin_db):
    for _ in range(12):  # every worker thread opens its connection (kept: DB_CONN_MAX_AGE)
        assert get(gunicorn_server, *LOCATE).status_code == 200
    killed = terminate_backends(admin_db, application_name=APP_NAME)
    assert killed >= 1
    answers = [get(gunicorn_server, *LOCATE) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    assert answers[0].json()["district"]["name"] == "渝中区"


def test_an_outage_answers_503_with_retry_after_then_recovers_within_5_s(gunicorn_server, admin_db):
    assert get(gunicorn_server, *LOCATE).status_code == 200
    try:
        allow_connections(admin_db, False)
        assert terminate_backends(admin_db, application_name=APP_NAME) >= 1

        for _ in range(6):  # each of the workers' threads, whichever answers
            api = get(gunicorn_server, *LOCATE)
            assert api.status_code == 503, api.text
            assert api.headers["Retry-After"] == "5" and api.elapsed_s < 3
            assert api.json()["error"]["code"] == "unavailable"
        page = get(gunicorn_server, "/placenames/", {"q": "解放碑"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert page.headers["Content-Type"].startswith("text/html") and "Service unavailable" in page.text
        tile = get(gunicorn_server, "/tiles/facilities/10/816/426.pbf")
        assert tile.status_code == 503 and tile.json()["error"]["code"] == "unavailable"
        ready = get(gunicorn_server, "/readyz")
        assert ready.status_code == 503 and not ready.json()["checks"]["database"]["ok"]
        assert get(gunicorn_server, "/healthz").status_code == 200  # the process itself is fine
    finally:
        allow_connections(admin_db, True)
    back = time.monotonic()
    while (answer := get(gunicorn_server, *LOCATE)).status_code != 200:
        assert time.monotonic() - back < RECOVERY_S, answer.text
        time.sleep(0.1)
    recovered_s = time.monotonic() - back
    print(f"answering again {recovered_s:.2f} s after the database came back")
    assert [get(gunicorn_server, *LOCATE).status_code for _ in range(12)] == [200] * 12
    assert get(gunicorn_server, "/readyz").status_code == 200
    assert "Traceback" not in gunicorn_server.log.read_text()  # no worker died or logged a 500


@pytest.fixture(autouse=True)
def _connections_allowed_after(admin_db):
    yield
    allow_connections(admin_db, True)
