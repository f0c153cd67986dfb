"""Running the portal as a service: health and readiness, the request id and the JSON request log,
and the production profile that `check --deploy` approves."""

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gis_portal.core.logs import JsonFormatter

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_healthz_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["postgis"].startswith("3.")
    assert body["checks"]["cache"] == {"ok": True, "backend": "RedisCache"}


def test_readyz_says_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["checks"]["database"]["ok"]
    assert not body["checks"]["cache"]["ok"] and "ConnectionError" in body["checks"]["cache"]["error"]


def test_the_request_id_is_kept_or_made_and_tags_every_statement(client):
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/v1/locate", {"lon": 106.5767, "lat": 29.5575}, HTTP_X_REQUEST_ID="lb-42.a")
    assert answer["X-Request-ID"] == "lb-42.a"
    assert queries.captured_queries and all(
        q["sql"].startswith("/* request_id=lb-42.a */") for q in queries.captured_queries
    )
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="x */ DROP TABLE auth_user; /*")
    assert len(hostile["X-Request-ID"]) == 32 and hostile["X-Request-ID"].isalnum()  # replaced


def test_one_json_line_a_request(client, caplog):
    client.get("/api/v1/divisions", {"level": "district", "page_size": 1}, HTTP_X_REQUEST_ID="req-7")
    client.get("/healthz")
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "gis_portal.requests"]
    assert len(lines) == 1  # health probes are not logged
    entry = json.loads(lines[0])
    assert entry["method"] == "GET" and entry["path"] == "/api/v1/divisions" and entry["status"] == 200
    assert entry["request_id"] == "req-7" and entry["user"] is None and entry["ms"] > 0


def check_deploy(**env) -> subprocess.CompletedProcess:
    # As a server starts: without the tests' own DJANGO_ALLOW_ASYNC_UNSAFE (conftest.py).
    server_env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**server_env, "SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "0", **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_https_profile_passes_the_deployment_check():
    assert check_deploy(PORTAL_HTTPS="1").returncode == 0
    plain = check_deploy(PORTAL_HTTPS="0")
    assert plain.returncode != 0 and "SECURE_HSTS_SECONDS" in plain.stderr + plain.stdout


def test_logging_to_json_keeps_extra_fields():
    record = logging.makeLogRecord({"msg": "refused %s", "args": ("x",), "levelname": "INFO", "name": "t", "size": 3})
    assert json.loads(JsonFormatter().format(record)) | {"time": None} == {
        "time": None, "level": "INFO", "logger": "t", "message": "refused x", "size": 3,
    }  # fmt: skip
