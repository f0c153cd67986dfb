"""Two app servers: two gunicorn processes on different ports over the same (test) database, the
same Redis and the same replica (configured the way production is, by DATABASE_REPLICA_URLS). What
one server counts, signs in or caches, the other sees: a throttle, a session and a cached tile."""

import os
import re
import subprocess
import time
import uuid
from urllib.parse import quote

import mercantile
import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_KEY_PREFIX
from django.core.cache import cache
from django.db import connection

from gis_portal.portal.tiles import tile_cache_key
from tests.helpers import committed
from tests.scale.conftest import DATABASES, REPLICA_PORT, ROOT
from tests.scale.test_replicas import PASSWORD

pytestmark = pytest.mark.django_db(databases=DATABASES)
JIEFANGBEI = (106.5767, 29.5575)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(port: int) -> str:
    db = connection.settings_dict
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"postgis://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


@pytest.fixture(scope="module")
def servers(replica, django_db_blocker):
    """Two gunicorn servers (one worker, two threads each) on the session's database, Redis database
    and cache key prefix; public reads through the replica."""
    cache_settings = settings.CACHES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(int(connection.settings_dict["PORT"] or 5432)),
        "DATABASE_REPLICA_URLS": database_url(REPLICA_PORT),
        "REDIS_URL": cache_settings["LOCATION"],
        "CACHE_KEY_PREFIX": cache_settings["KEY_PREFIX"],
        "SECRET_KEY": settings.SECRET_KEY,
        "THROTTLE_HEAVY_ANON": "2/minute",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        # As in the replica fixture: lag has its own test, and other test workers write to the same
        # cluster meanwhile (loading their data), which can hold the replica seconds behind.
        "REPLICA_MAX_LAG_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
    }
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [str(ROOT / ".venv/bin/gunicorn"), "gis_portal.portal.wsgi", "--config", "gunicorn.conf.py"],
                    cwd=ROOT,
                    env={**env, "BIND": f"127.0.0.1:{port}"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        for url in urls:
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet, or still loading the app
                    pass
                assert time.monotonic() < deadline, f"gunicorn at {url} did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_both_servers_are_ready_with_the_replica(servers):
    for url in servers:
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["replicas"]["replicas"]["replica1"]["ok"] is True


def test_a_throttle_counted_on_one_server_holds_on_the_other(servers):
    a, b = servers
    path = "/api/v1/facilities?export=csv&category=funeral_home"
    assert requests.get(a + path, timeout=30).status_code == 200
    assert requests.get(b + path, timeout=30).status_code == 200
    third = requests.get(a + path, timeout=30)  # 2/minute for the public, per address, on every server
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "throttled"
    assert requests.get(b + path, timeout=30).status_code == 429


def test_a_session_opened_on_one_server_is_known_to_the_other(servers):
    a, b = servers
    username = f"two-servers-{uuid.uuid4().hex[:8]}"
    user_id = committed(lambda: User.objects.create_superuser(username, password=PASSWORD).pk)
    try:
        browser = requests.Session()
        form = browser.get(f"{a}/accounts/login/", timeout=10).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        signed_in = browser.post(
            f"{a}/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=10,
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        session_key = browser.cookies["sessionid"]
        # The session is in the shared cache (and written through to the database).
        assert cache.get(SESSION_KEY_PREFIX + session_key)["_auth_user_id"] == str(user_id)

        page = browser.get(f"{b}/accounts/manage/", allow_redirects=False, timeout=10)
        assert page.status_code == 200
        assert username in page.text

        # Signing out on B ends the session on A too.
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        out = browser.post(f"{b}/accounts/logout/", data={"csrfmiddlewaretoken": token}, allow_redirects=False)
        assert out.status_code == 302
        browser.cookies.set("sessionid", session_key)  # even replaying the old cookie
        again = browser.get(f"{a}/accounts/manage/", allow_redirects=False, timeout=10)
        assert again.status_code == 302 and "/accounts/login/" in again.headers["Location"]
    finally:
        committed(lambda: User.objects.filter(pk=user_id).delete())


def test_a_tile_cached_by_one_server_is_served_by_the_other(servers):
    a, b = servers
    t = mercantile.tile(*JIEFANGBEI, 12)
    path = f"/tiles/townships/12/{t.x}/{t.y}.pbf"
    first = requests.get(a + path, timeout=30)
    assert first.status_code == 200 and first.content
    key = tile_cache_key(layer="townships", z=12, x=t.x, y=t.y, cluster=None)
    assert cache.get(key) == first.content
    # B answers from the shared cache, not from the database: it serves what the cache now holds.
    cache.set(key, b"cached-by-the-other-server", 60)
    second = requests.get(b + path, timeout=30)
    assert second.status_code == 200
    assert second.content == b"cached-by-the-other-server"
