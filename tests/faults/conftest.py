"""Fixtures for the fault tests: the portal served by gunicorn from ``gunicorn.conf.py`` (as
``make run`` serves it) over the session's test database (or, ``running_gunicorn``, over any
database), a timed client (``get``), and a connection of its own to PostgreSQL's maintenance
database for what a fault test does to the test database (end its connections) outside the test's
transaction.

Every fault is undone in a ``finally``, so that the tests after these run as before."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
APP_NAME = "gis-portal-fault-test"  # the gunicorn workers' application_name (PGAPPNAME)
CLIENT_TIMEOUT_S = 10


def database_url(name: str | None = None) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgis://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"


def admin_connection():
    """Autocommit, to the maintenance database: it outlives what the tests do to the test database."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
    )  # fmt: skip
    conn.autocommit = True
    return conn


def terminate_backends(conn, *, application_name: str) -> int:
    """End the test database's connections opened under ``application_name``; how many."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = %s",
            [settings.DATABASES["default"]["NAME"], application_name],
        )
        return cursor.fetchone()[0]


def get(server, path: str, params: dict | None = None) -> requests.Response:
    """A GET to the server, bounded by CLIENT_TIMEOUT_S (a hang fails the test instead of holding
    it); the answer carries ``elapsed_s``."""
    started = time.monotonic()
    response = requests.get(f"{server.url}{path}", params=params, timeout=CLIENT_TIMEOUT_S)
    response.elapsed_s = time.monotonic() - started
    return response


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(**extra) -> dict:
    """The environment of a process of the service: the test database, no tests' settings."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    cache = settings.CACHES["default"]
    return {
        **env,
        "DATABASE_URL": database_url(),
        "REDIS_URL": cache["LOCATION"],
        "CACHE_KEY_PREFIX": cache["KEY_PREFIX"],
        "PGAPPNAME": APP_NAME,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@pytest.fixture(scope="module")
def admin_db():
    conn = admin_connection()
    yield conn
    conn.close()


@contextlib.contextmanager
def running_gunicorn(env: dict, log: Path, *, ready_within_s: float = 60):
    """gunicorn from gunicorn.conf.py (as ``make run`` serves the portal) in a session of its own,
    with ``env`` (which sets BIND), until it answers /readyz with 200; stopped (SIGTERM, then
    SIGKILL) on the way out. The process carries ``url`` and ``log``."""
    with log.open("wb") as out:
        server = subprocess.Popen(
            # No control socket: its default path is one for every gunicorn on the machine.
            [sys.executable, "-m", "gunicorn", "gis_portal.portal.wsgi", "--config", "gunicorn.conf.py",
             "--no-control-socket"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://{env['BIND']}"
    try:
        deadline = time.monotonic() + ready_within_s
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=30).status_code == 200:  # workers load the app first
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        server.log = log
        server.url = url
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def gunicorn_server(django_db_setup, tmp_path_factory):
    """The portal as ``make run`` serves it (gunicorn.conf.py: gthread workers), two workers of
    two threads on a free loopback port, over the test database."""
    port = free_port()
    env = server_env(
        BIND=f"127.0.0.1:{port}", WEB_WORKERS="2", WEB_THREADS="2", MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))
    )
    try:
        with running_gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as server:
            yield server
    finally:
        conn = admin_connection()  # no worker connection left to hold the test database
        try:
            terminate_backends(conn, application_name=APP_NAME)
        finally:
            conn.close()
