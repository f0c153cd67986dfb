"""The read router's rules without a database (gis_portal.core.replicas): which requests may read a
replica, the pin cookie after a write, writes and migrations on the primary. The routing against a
real replica is tested in tests/scale."""

import json
import os
import subprocess
import sys

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from gis_portal.core import replicas

ONE_REPLICA = override_settings(DATABASE_REPLICAS=["replica1"], READ_PRIMARY_AFTER_WRITE_SECONDS=15)


@pytest.mark.parametrize(
    ("method", "headers", "cookies", "allowed"),
    [
        ("get", {}, {}, True),
        ("head", {}, {}, True),
        ("options", {}, {}, True),
        ("post", {}, {}, False),
        ("put", {}, {}, False),
        ("delete", {}, {}, False),
        ("get", {"HTTP_AUTHORIZATION": "Token abc"}, {}, False),  # an API client: it may not keep cookies
        ("get", {}, {replicas.PIN_COOKIE: "1"}, False),  # it wrote a moment ago
    ],
)
def test_which_requests_may_read_a_replica(method, headers, cookies, allowed):
    request = getattr(RequestFactory(), method)("/api/v1/placenames/search?q=x", **headers)
    request.COOKIES.update(cookies)
    with ONE_REPLICA:
        assert replicas.replicas_allowed(request) is allowed
    assert replicas.replicas_allowed(request) is False  # no replica configured: never


def test_a_write_pins_its_client_to_the_primary_for_a_while():
    middleware = replicas.ReadReplicaMiddleware(lambda request: HttpResponse("ok"))
    with ONE_REPLICA:
        written = middleware(RequestFactory().post("/accounts/login/"))
        read = middleware(RequestFactory().get("/"))
    cookie = written.cookies[replicas.PIN_COOKIE]
    assert cookie.value == "1" and cookie["max-age"] == 15 and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert replicas.PIN_COOKIE not in read.cookies
    assert replicas.PIN_COOKIE not in middleware(RequestFactory().post("/")).cookies  # no replicas: no cookie


def test_writes_and_migrations_go_to_the_primary_and_a_request_that_wrote_reads_there():
    router = replicas.ReplicaRouter()
    assert router.allow_migrate("default", "placenames") is True
    assert router.allow_migrate("replica1", "placenames") is False
    with ONE_REPLICA, replicas.reading_from_replicas() as used:
        assert router.db_for_write(None) == "default"
        # From its first write on, the request reads the primary (no replica is even checked).
        assert router.db_for_read(None) == "default"
    assert used == {"default"}
    with ONE_REPLICA, replicas.reading_from_replicas(False) as used:
        assert replicas.read_alias() == "default"
    assert replicas.read_alias() == "default"  # outside any request


def replica_settings(urls: str) -> subprocess.CompletedProcess:
    """The settings' replicas as a fresh process reads them from DATABASE_REPLICA_URLS."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.DATABASE_REPLICAS, {a: [s.DATABASES[a][k] for k in ('HOST', 'PORT', 'NAME', 'OPTIONS')]"
        " for a in s.DATABASE_REPLICAS}, s.DATABASE_ROUTERS]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gis_portal.portal.settings",
        "DATABASE_REPLICA_URLS": urls,
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_replicas_are_read_from_the_environment():
    done = replica_settings("postgis://u:p@db-r1:5433/portal?sslmode=require, postgis://u:p@db-r2/portal")
    assert done.returncode == 0, done.stderr
    aliases, databases, routers = json.loads(done.stdout.splitlines()[-1])
    read_only = "-c default_transaction_read_only=on"
    assert aliases == ["replica1", "replica2"]
    assert databases == {
        "replica1": ["db-r1", 5433, "portal", {"sslmode": "require", "connect_timeout": 2, "options": read_only}],
        "replica2": ["db-r2", "", "portal", {"connect_timeout": 2, "options": read_only}],
    }
    assert routers == ["gis_portal.core.replicas.ReplicaRouter"]


def test_a_replica_that_is_not_postgis_is_refused_at_start_up():
    done = replica_settings("postgres://u:p@db-r1/portal")
    assert done.returncode != 0
    assert "DATABASE_REPLICA_URLS: replica 1 must use the postgis:// scheme" in done.stderr
