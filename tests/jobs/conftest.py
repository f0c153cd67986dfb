"""Real job workers for the tests: ``python -m tests.jobs.worker`` processes on the session's test
database (beating every 0.5 s, taken for dead after 2 s of silence), killed at the end."""

import os
import signal
import subprocess
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.helpers import committed
from tests.jobs.probe import EFFECTS_TABLE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STALLED_S = 2.0
HEARTBEAT_S = 0.5


def database_url() -> str:
    db = connection.settings_dict
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"postgis://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(django_db_blocker):
    """Start a worker process (call it); every one started is killed at the end of the test."""
    started = []
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATABASE_REPLICA_URLS": "",
        "SECRET_KEY": settings.SECRET_KEY,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
        "JOBS_STALLED_SECONDS": str(STALLED_S),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "gis_portal.portal.settings",
    }

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [os.path.join(ROOT, ".venv/bin/python"), "-m", "tests.jobs.worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def effects(django_db_blocker):
    """The probe's side-effect table (committed), emptied before and after."""

    def run(sql: str):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else None

    committed(run, f"CREATE TABLE IF NOT EXISTS {EFFECTS_TABLE} (job_id bigint NOT NULL)")
    committed(run, f"DELETE FROM {EFFECTS_TABLE}")
    yield lambda job_id: committed(run, f"SELECT count(*) FROM {EFFECTS_TABLE} WHERE job_id = {int(job_id)}")[0][0]
    committed(run, f"DELETE FROM {EFFECTS_TABLE}")


def wait_for(predicate, *, timeout_s: float = 60, what: str = "the condition"):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen in {timeout_s} s")
        time.sleep(0.1)
