"""An import killed with -9 half-way (no handler runs, no rollback is asked for) leaves no row:
the import is one transaction, and PostgreSQL drops it when its client vanishes. A rerun of the
same command then completes. The command runs as an operator runs it, in its own process, over the
test database; what the rerun commits is removed at the end."""

import os
import random
import signal
import subprocess
import sys
import time

import psycopg2
import pytest
from django.conf import settings
from psycopg2 import sql

from facilities.models import Facility
from facilities.services import coverage_nearest_rebuild
from tests.faults.conftest import ROOT, server_env

ROWS = 5_000
SOURCE = "fault-test-import"
APP_NAME = "gis-portal-fault-import"


def write_csv(path):
    rng = random.Random(16)
    lines = ["name,category,lon,lat"]  # points in the urban core (渝中, 江北, 南岸...)
    lines += [
        f"养老服务站{i},elder_station,{rng.uniform(106.50, 106.62):.6f},{rng.uniform(29.52, 29.60):.6f}"
        for i in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rows(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE source = %s").format(sql.Identifier(Facility._meta.db_table)),
            [SOURCE],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def test_db(django_db_setup, django_db_blocker):
    """An autocommit connection of its own to the test database (outside any test transaction)."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
    )  # fmt: skip
    conn.autocommit = True
    yield conn
    conn.close()
    # What the rerun committed goes, and the nearest-facility table is computed again without it:
    # the test database as it was for the tests after this one.
    with django_db_blocker.unblock():
        Facility.objects.filter(source=SOURCE).delete()
        coverage_nearest_rebuild()


def import_command(path):
    return [sys.executable, "manage.py", "import_facilities", str(path), "--source", SOURCE]


def backend(conn, *, writing: bool):
    """The command's database session (with a transaction id once it has written), or None."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
            + (" AND backend_xid IS NOT NULL" if writing else ""),
            [settings.DATABASES["default"]["NAME"], APP_NAME],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_an_import_killed_mid_way_leaves_no_rows_and_a_rerun_completes(tmp_path, test_db):
    path = tmp_path / "facilities.csv"
    write_csv(path)
    env = server_env(PGAPPNAME=APP_NAME)
    assert rows(test_db) == 0
    command = subprocess.Popen(import_command(path), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while backend(test_db, writing=True) is None:  # it has begun to insert
        assert command.poll() is None, command.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(command.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    command.wait()
    assert command.returncode == -signal.SIGKILL
    while backend(test_db, writing=False) is not None:  # PostgreSQL ends the orphaned session
        assert time.monotonic() < deadline
        time.sleep(0.05)
    print(f"the killed import's session ended {time.monotonic() - killed_at:.2f} s after kill -9")
    assert rows(test_db) == 0

    started = time.monotonic()
    rerun = subprocess.run(import_command(path), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    print(f"rerun of {ROWS:,} facilities: {time.monotonic() - started:.1f} s")
    assert rows(test_db) == ROWS
