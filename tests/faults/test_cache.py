"""The shared cache (Redis) dies while the portal serves: the public reads keep answering, the
rate throttles fail open (gis_portal.core.throttles says why), the bulkhead falls back to one
expensive request per worker, and readiness reports the cache down with 503.

The Redis here is a private one started for the test on a free port (the machine's own Redis is
shared and is never stopped); it is killed with -9 mid-test and, whatever happens, at the end."""

import shutil
import signal
import subprocess
import time

import pytest
import redis

from tests.faults.conftest import free_port

pytestmark = pytest.mark.django_db
PUBLIC_READS = [
    ("/api/v1/locate", {"lon": 106.5767, "lat": 29.5575}),
    ("/api/v1/placenames/search", {"q": "jiefangbei"}),
    ("/api/v1/placenames/autocomplete", {"q": "沙坪"}),
    ("/api/v1/divisions", {"level": "district", "page_size": 2}),
    ("/api/v1/boundary-lines", {"level": "province"}),
    ("/api/v1/facilities", {"category": "funeral_home", "page_size": 5}),
    ("/api/v1/coverage", {"category": "funeral_home"}),
    ("/tiles/facilities/10/816/426.pbf", {}),
    ("/tiles/townships/8/204/106.pbf", {"cluster": "urban_core"}),
    ("/", {}),
    ("/placenames/", {"q": "解放碑"}),
]


@pytest.fixture
def private_redis(settings):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(port=port)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0", "KEY_PREFIX": "fault"}
        }
        server.client = client
        yield server
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()


def test_public_reads_answer_with_the_cache_killed(client, private_redis):
    assert [client.get(path, params).status_code for path, params in PUBLIC_READS[:8]] == [200] * 8
    assert private_redis.client.keys("fault:*")  # the cache was in use (the tile)
    assert client.get("/readyz").status_code == 200

    private_redis.send_signal(signal.SIGKILL)
    private_redis.wait()

    for path, params in PUBLIC_READS:
        started = time.monotonic()
        response = client.get(path, params)
        assert response.status_code == 200, (path, response.content[:300])
        assert time.monotonic() - started < 5, path
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and not checks["cache"]["ok"]
    assert "ConnectionError" in checks["cache"]["error"]


def test_throttles_fail_open_and_heavy_requests_run_one_at_a_time_per_worker(client, private_redis, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "heavy_anon": "2/minute"}}  # fmt: skip
    export = ("/api/v1/facilities", {"category": "funeral_home", "export": "csv"})
    answers = []
    for _ in range(3):
        answer = client.get(*export)
        answers.append(answer.status_code)
        if answer.status_code == 200:
            b"".join(answer.streaming_content)  # sent: its heavy-request slot is given back
    assert answers == [200, 200, 429]  # counted while the cache is up

    private_redis.send_signal(signal.SIGKILL)
    private_redis.wait()
    for _ in range(3):  # uncounted: failing open
        answer = client.get(*export)
        assert answer.status_code == 200
        assert b"".join(answer.streaming_content).count(b"\n") == 36  # header + 35 funeral homes; slot freed

    from gis_portal.core.throttles import HeavyRequestSlot

    with HeavyRequestSlot():  # this process's one slot taken: the next expensive request waits its turn
        busy = client.get(*export)
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "busy" and busy["Retry-After"] == "5"
    answer = client.get(*export)
    assert answer.status_code == 200 and b"".join(answer.streaming_content)


def test_sign_in_answers_and_still_locks_out_with_the_cache_killed(private_redis, settings):
    """The token throttle fails open too; what stops password guessing, django-axes' lock-out, is
    kept in the database and still answers 429 after the failure limit."""
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    User.objects.create_user("guessed", password="Right-password-42")
    private_redis.send_signal(signal.SIGKILL)
    private_redis.wait()
    api = APIClient()
    token = api.post("/api/v1/auth/token", {"username": "guessed", "password": "Right-password-42"})
    assert token.status_code == 200 and len(token.json()["token"]) == 40
    answers = [
        api.post("/api/v1/auth/token", {"username": "guessed", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    locked = api.post("/api/v1/auth/token", {"username": "guessed", "password": "Right-password-42"})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked_out"
