"""Health of the running service, for load balancers and operators: ``/healthz`` says the process
answers (nothing else is touched), ``/readyz`` checks what the service depends on — the database
(reachable, migrated, PostGIS), the shared cache, the media directory — and answers 503 naming what
is missing; it reports each read replica with its lag (a failing one is skipped, not fatal) and the
job queue (jobs waiting, the oldest one's wait, workers seen). Both are JSON, cheap, never
throttled and never logged per request."""

import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis.exceptions import RedisError

from gis_portal.core import replicas
from gis_portal.jobs.selectors import queue_state

logger = logging.getLogger(__name__)

# The migration check reads the migration graph (tens of ms): its answer is kept this long.
MIGRATIONS_CHECKED_FOR_S = 30
_migrations_checked: dict[str, float | bool] = {"at": 0.0, "ok": False}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version(), current_setting('server_version')")
            postgis, server = cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "error": str(exc).splitlines()[0][:200]}
    now = time.monotonic()
    if now - _migrations_checked["at"] > MIGRATIONS_CHECKED_FOR_S:
        executor = MigrationExecutor(connection)
        _migrations_checked.update(at=now, ok=not executor.migration_plan(executor.loader.graph.leaf_nodes()))
    answer = {"ok": bool(_migrations_checked["ok"]), "postgresql": server, "postgis": postgis}
    if not _migrations_checked["ok"]:
        answer["error"] = "migrations not applied: run manage.py migrate"
    return answer


def _cache() -> dict:
    try:
        cache.set("readyz", "1", 10)
        ok = cache.get("readyz") == "1"
    except (OSError, RedisError) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"ok": ok, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _replicas() -> dict:
    """Each read replica checked now: reachable, in recovery, its replay lag. A replica that fails
    is skipped (reads go to the primary), so it does not make the service unready; ``degraded``
    says that reads are not spread as configured."""
    states = {alias: replicas.check(alias).as_dict() for alias in replicas.replica_aliases()}
    for alias, answer in states.items():
        answer["host"] = f"{settings.DATABASES[alias]['HOST']}:{settings.DATABASES[alias]['PORT']}"
    return {"ok": True, "degraded": not all(s["ok"] for s in states.values()), "replicas": states}


def _queue() -> dict:
    """The job queue (procrastinate's tables in the primary): jobs waiting, the oldest one's wait,
    jobs running, workers that beat recently. No worker does not make a web server unready (it
    still answers); ``degraded`` says that queued work is not being taken."""
    try:
        state = queue_state()
    except DatabaseError as exc:
        return {"ok": False, "error": str(exc).splitlines()[0][:200]}
    return {"ok": True, "degraded": state["workers"] == 0 and state["waiting"] > 0, **state}


def _media() -> dict:
    """The uploads' directory can be written (or created: its nearest existing parent can)."""
    path = Path(settings.MEDIA_ROOT)
    while not path.exists() and path != path.parent:
        path = path.parent
    ok = path.is_dir() and os.access(path, os.W_OK)
    return {"ok": ok} if ok else {"ok": False, "error": f"{settings.MEDIA_ROOT} cannot be written"}


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "replicas": _replicas(), "cache": _cache(), "queue": _queue(), "media": _media()}
    ready = all(check["ok"] for check in checks.values())
    if not ready:
        logger.warning("not ready: %s", {name: c.get("error") for name, c in checks.items() if not c["ok"]})
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
