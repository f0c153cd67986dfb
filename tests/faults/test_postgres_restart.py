"""PostgreSQL itself stops under a running server and starts again: a real restart, not a
simulation.

The server here is gunicorn from gunicorn.conf.py (two workers of two threads, connections kept
as configured: DB_CONN_MAX_AGE) over a small database of its own on a throwaway cluster
(``scripts/fault_cluster.sh``, 127.0.0.1:5434), migrated, with the municipality and 渝中区 as
boxes: the machine's own clusters (5432, and the replica on 5433) are never stopped. The cluster is
stopped with ``pg_ctlcluster stop -m fast`` while clients keep asking; every answer meanwhile is a
200 or a 503, never a 500 and never a hang; once it is down the API answers 503 JSON and the pages
a 503 page, both with Retry-After, at once. After ``start`` the same workers answer normally within
5 s. The timings are printed (``pytest -s``)."""

import os
import statistics
import subprocess
import sys
import threading
import time
from contextlib import closing

import psutil
import psycopg2
import pytest
import requests
from django.conf import settings
from psycopg2 import sql

from tests.faults.conftest import CLIENT_TIMEOUT_S, ROOT, free_port, get, running_gunicorn, server_env

FAULT_PORT = int(os.environ.get("FAULT_PORT", "5434"))
LOCATE = ("/api/v1/locate", {"lon": 106.5767, "lat": 29.5575})  # inside the 渝中区 box below
PAGE = ("/placenames/", {"q": "解放碑"})
ASKED_DURING_STOP = [LOCATE, PAGE, ("/api/v1/placenames/search", {"q": "yuzhong"}), ("/readyz", {})]
AT_ONCE_S = 3.0
RECOVERY_S = 5.0

# Run in the server's environment: migrate, then the little data the requests read.
PREPARE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.gis.geos import MultiPolygon, Polygon
from boundaries.models import Division
from boundaries.services import division_pieces_rebuild
box = lambda x0, y0, x1, y1: MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)
city = Division.objects.create(code="500000", name="重庆市", level="municipality", kind="municipality",
                               geom=box(105.2, 28.1, 110.2, 32.3))
Division.objects.create(code="500103", name="渝中区", level="district", kind="district", parent=city,
                        geom=box(106.50, 29.52, 106.60, 29.58))
division_pieces_rebuild()
"""


def fault_cluster(action: str, url: str) -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts/fault_cluster.sh"), action],
        env={**os.environ, "DATABASE_URL": url, "FAULT_PORT": str(FAULT_PORT)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"scripts/fault_cluster.sh {action} (needs root or sudo): {done.stderr[-2000:]}"


def maintenance(url_parts: dict):
    conn = psycopg2.connect(dbname="postgres", port=FAULT_PORT, connect_timeout=5, **url_parts)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="module")
def restartable(tmp_path_factory):
    """gunicorn over a migrated database of its own on the throwaway cluster; the cluster is left
    running whatever the test did to it, and the database dropped."""
    db = settings.DATABASES["default"]
    parts = {"user": db["USER"], "password": db.get("PASSWORD") or None, "host": "127.0.0.1"}
    name = f"test_restart_{db['NAME']}"[:63]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgis://{db['USER']}{password}@127.0.0.1:{FAULT_PORT}/{name}"
    fault_cluster("start", url)
    with closing(maintenance(parts)) as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = server_env(
        DATABASE_URL=url,
        BIND=f"127.0.0.1:{free_port()}",
        WEB_WORKERS="2",
        WEB_THREADS="2",
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
    )
    started = time.monotonic()
    prepared = subprocess.run(
        [sys.executable, "-c", PREPARE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    print(f"\nfault cluster database migrated and loaded in {time.monotonic() - started:.1f} s")
    try:
        with running_gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as server:
            server.cluster = lambda action: fault_cluster(action, url)
            yield server
    finally:
        fault_cluster("start", url)
        with closing(maintenance(parts)) as conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"


def test_postgresql_stopped_and_started_answers_503_then_recovers_within_5_s(restartable):
    server = restartable
    workers = sorted(child.pid for child in psutil.Process(server.pid).children())
    assert len(workers) == 2
    for _ in range(12):  # every worker thread opens its connection and keeps it
        answer = get(server, *LOCATE)
        assert answer.status_code == 200, answer.text
    assert answer.json()["district"] == {"code": "500103", "name": "渝中区"}
    assert get(server, *PAGE).status_code == 200

    # Clients keep asking while PostgreSQL shuts down (fast: their backends are ended mid-request).
    during: list[tuple[str, int, float]] = []
    stopping = threading.Event()

    def client(number: int) -> None:
        while not stopping.is_set():
            path, params = ASKED_DURING_STOP[number % len(ASKED_DURING_STOP)]
            try:
                answer = get(server, path, params)
                during.append((path, answer.status_code, answer.elapsed_s))
            except requests.RequestException as exc:  # a hang or a dropped connection
                during.append((path, type(exc).__name__, CLIENT_TIMEOUT_S))
            number += 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(0.5)
        stop_started = time.monotonic()
        server.cluster("stop")
        stop_s = time.monotonic() - stop_started
        time.sleep(1.0)
    finally:
        stopping.set()
        for thread in clients:
            thread.join(timeout=2 * CLIENT_TIMEOUT_S)
    try:
        statuses = {status for _, status, _ in during}
        assert statuses <= {200, 503}, [d for d in during if d[1] not in (200, 503)]
        assert 503 in statuses
        assert max(elapsed for _, _, elapsed in during) < AT_ONCE_S

        # Down: each of the workers' threads, whichever answers, says so at once.
        api = [get(server, *LOCATE) for _ in range(6)]
        for answer in api:
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "5" and answer.elapsed_s < AT_ONCE_S
            assert answer.headers["Content-Type"] == "application/json"
            assert answer.json()["error"]["code"] == "unavailable"
        pages = [get(server, *PAGE) for _ in range(4)]
        for page in pages:
            assert page.status_code == 503 and page.headers["Retry-After"] == "5"
            assert page.headers["Content-Type"].startswith("text/html") and "Service unavailable" in page.text
            assert page.elapsed_s < AT_ONCE_S
        tile = get(server, "/tiles/townships/10/816/426.pbf")  # never asked before: not in the cache
        assert tile.status_code == 503 and tile.json()["error"]["code"] == "unavailable"
        ready = get(server, "/readyz")
        assert ready.status_code == 503 and not ready.json()["checks"]["database"]["ok"]
        assert get(server, "/healthz").status_code == 200  # the process itself is fine
    finally:
        start_started = time.monotonic()
        server.cluster("start")
        back = time.monotonic()
    while (answer := get(server, *LOCATE)).status_code != 200:
        assert answer.status_code == 503, answer.text
        assert time.monotonic() - back < RECOVERY_S, answer.text
        time.sleep(0.05)
    recovered_s = time.monotonic() - back
    assert [get(server, *LOCATE).status_code for _ in range(12)] == [200] * 12
    assert get(server, *PAGE).status_code == 200
    assert get(server, "/readyz").status_code == 200
    assert sorted(child.pid for child in psutil.Process(server.pid).children()) == workers  # no restart
    assert "Traceback" not in server.log.read_text()  # no worker died or logged a 500

    answered = [elapsed for _, status, elapsed in during if status == 503]
    print(
        f"\nPostgreSQL stop -m fast took {stop_s:.2f} s; while it stopped: {len(during)} answers "
        f"({len(answered)} of them 503, {ms(answered)});"
        f"\ndown: API 503 {ms([a.elapsed_s for a in api])}, page 503 {ms([p.elapsed_s for p in pages])};"
        f"\nstart took {back - start_started:.2f} s; answering normally {recovered_s:.2f} s after PostgreSQL was back"
    )
