"""A real streaming replica for the tests: ``scripts/replica.sh start`` (a second PostgreSQL cluster
on REPLICA_PORT, 5433 by default, made by pg_basebackup from the primary; safe to run again) and the
alias ``replica1`` added to the running settings, pointing at the session's test database there
(physical replication copies the whole cluster, so the test database Django created and loaded on
the primary is on the replica under the same name).

Tests using these mark ``pytest.mark.django_db(databases=DATABASES)``. Only the server threads
(``portal_server``) route reads to it: the tests' own connection is inside the ``db`` fixture's
transaction, which always reads the primary.
"""

import copy
import os
import subprocess
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connection, connections
from django.test.utils import override_settings

from gis_portal.core import replicas

ROOT = Path(__file__).resolve().parent.parent.parent
REPLICA_PORT = int(os.environ.get("REPLICA_PORT", "5433"))
ALIAS = "replica1"
WRONG_ALIAS = "replica2"
# Tests that reach the replicas (through a server thread or themselves) say so.
DATABASES = ["default", ALIAS, WRONG_ALIAS]


def replica_sh(action: str) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/replica.sh"), action], check=True, capture_output=True, timeout=300)


def connect(port: int):
    """A psycopg2 connection (autocommit) to the test database on the primary or the replica."""
    db = connection.settings_dict
    conn = psycopg2.connect(
        host=db["HOST"] or "127.0.0.1", port=port, user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    )
    conn.autocommit = True
    return conn


def wait_until_replayed(timeout_s: float = 120) -> None:
    """Until the replica has replayed everything the primary had written when this was called."""
    with connect(int(connection.settings_dict["PORT"] or 5432)) as primary, primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with connect(REPLICA_PORT) as replica, replica.cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
                if cursor.fetchone()[0]:
                    return
        except psycopg2.OperationalError:  # the test database is not there yet
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the replica did not replay up to {target} in {timeout_s} s")
        time.sleep(0.2)


@pytest.fixture(scope="package")
def replica(django_db_setup, django_db_blocker):
    """The replica, streaming and caught up with the loaded test database, as ``replica1`` in
    DATABASE_REPLICAS (checked before every read: REPLICA_CHECK_SECONDS=0), for the tests of this
    package only: the rest of the suite runs without replicas."""
    replica_sh("start")
    with django_db_blocker.unblock():
        wait_until_replayed()
        alias = copy.deepcopy(connection.settings_dict)
        alias.update(
            PORT=str(REPLICA_PORT),
            OPTIONS={"connect_timeout": 2, "options": "-c default_transaction_read_only=on"},
            TEST={**alias["TEST"], "MIRROR": "default"},
        )
        connections.settings[ALIAS] = alias
        # A wrong replica for the tests of bad configuration: the primary itself (not in recovery).
        connections.settings[WRONG_ALIAS] = {**copy.deepcopy(alias), "PORT": connection.settings_dict["PORT"] or "5432"}
        with override_settings(DATABASE_REPLICAS=[ALIAS], REPLICA_CHECK_SECONDS=0, REPLICA_MAX_LAG_SECONDS=3600):
            yield ALIAS
        for name in (ALIAS, WRONG_ALIAS):
            connections[name].close()
            del connections.settings[name]
        replicas._states.clear()
