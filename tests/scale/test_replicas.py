"""Reads through a real streaming replica (tests/scale/conftest.py): a committed write on the
primary shows on the replica; public reads are answered from the replica (seen by pausing its
replay: a row only the primary has is then missing from the answer) and writes go to the primary;
a client that wrote reads the primary; a lagging, stopped or wrong (not in recovery) replica is
skipped, logged and reported by /readyz, and the service keeps answering from the primary."""

import logging
import time
import uuid

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.authtoken.models import Token

from gis_portal.core import replicas
from placenames.models import PlaceName
from tests.helpers import committed
from tests.scale.conftest import DATABASES, REPLICA_PORT, connect, replica_sh, wait_until_replayed

PASSWORD = "replica-tests-Pa55word"
pytestmark = pytest.mark.django_db(databases=DATABASES)


@pytest.fixture(autouse=True)
def _fresh_states():
    replicas._states.clear()
    yield
    replicas._states.clear()


@pytest.fixture
def new_name(replica, db):
    """A place name committed on the primary while the replica's replay is paused (so only the
    primary has it); replay resumes and the row is deleted afterwards."""
    replica_sh("pause")

    def create():
        name = PlaceName.objects.order_by("id").first()
        name.pk = None
        name.division = None  # one name per division: this one names none
        name.name = f"副本测试地名{uuid.uuid4().hex[:6]}"
        name.save()
        return name.pk, name.name

    try:
        yield committed(create)
    finally:
        replica_sh("resume")
        committed(lambda: PlaceName.objects.filter(name__startswith="副本测试地名").delete())


def test_a_write_on_the_primary_is_visible_through_the_replica(replica, db):
    name = f"replica-probe-{uuid.uuid4().hex[:8]}"
    group_id = committed(lambda: Group.objects.create(name=name).pk)
    try:
        started = time.monotonic()
        with connect(REPLICA_PORT) as standby, standby.cursor() as cursor:
            while True:
                cursor.execute("SELECT name FROM auth_group WHERE id = %s", [group_id])
                found = cursor.fetchone()
                if found or time.monotonic() - started > 10:
                    break
                time.sleep(0.05)
            assert found == (name,)
            # And the replica refuses writes of its own.
            with pytest.raises(Exception, match="read-only"):
                cursor.execute("DELETE FROM auth_group WHERE id = %s", [group_id])
    finally:
        committed(lambda: Group.objects.filter(pk=group_id).delete())


def test_public_reads_come_from_the_replica_and_writes_go_to_the_primary(replica, portal_server, new_name, caplog):
    pk, name = new_name
    url = f"{portal_server}/api/v1/placenames/{pk}"
    # The replica has not replayed the row: a public read, served there, does not find it ...
    with caplog.at_level(logging.INFO, logger="gis_portal.requests"):
        public = requests.get(url, headers={"X-Request-ID": "public-read"}, timeout=10)
        # ... while a client pinned to the primary (it wrote a moment ago) does.
        pinned = requests.get(url, cookies={replicas.PIN_COOKIE: "1"}, headers={"X-Request-ID": "pinned"}, timeout=10)
    assert public.status_code == 404
    assert pinned.status_code == 200
    assert pinned.json()["properties"]["name"] == name
    # Each request's log line says where its reads went.
    reads = {r.request_id: r.reads for r in caplog.records if r.name == "gis_portal.requests"}
    assert reads == {"public-read": "replica1", "pinned": "default"}

    # A write (a sign-in token) lands on the primary while the replica is paused, and pins its client.
    username = f"replica-{uuid.uuid4().hex[:8]}"
    user_id = committed(lambda: User.objects.create_user(username, password=PASSWORD).pk)
    try:
        client = requests.Session()
        answer = client.post(
            f"{portal_server}/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        cookie = next(c for c in client.cookies if c.name == replicas.PIN_COOKIE)
        assert cookie.expires - time.time() == pytest.approx(15, abs=3)  # READ_PRIMARY_AFTER_WRITE_SECONDS
        with connect(int(connection.settings_dict["PORT"] or 5432)) as primary, primary.cursor() as cursor:
            cursor.execute("SELECT key FROM authtoken_token WHERE user_id = %s", [user_id])
            assert cursor.fetchone() == (answer.json()["token"],)
        with connect(REPLICA_PORT) as standby, standby.cursor() as cursor:
            cursor.execute("SELECT key FROM authtoken_token WHERE user_id = %s", [user_id])
            assert cursor.fetchone() is None  # paused: it has not seen the write
        # The client that wrote now reads the primary: it sees the new name.
        assert client.get(url, timeout=10).status_code == 200
    finally:
        committed(lambda: (Token.objects.filter(user_id=user_id).delete(), User.objects.filter(pk=user_id).delete()))

    replica_sh("resume")
    wait_until_replayed()
    assert requests.get(url, timeout=10).status_code == 200  # caught up: the replica has it now


def test_a_lagging_replica_is_skipped_and_reported(replica, portal_server, new_name, caplog):
    pk, name = new_name
    with override_settings(REPLICA_MAX_LAG_SECONDS=0.5):
        time.sleep(1)  # replay is paused behind the new row: the lag passes 0.5 s
        with caplog.at_level(logging.WARNING, logger="gis_portal.core.replicas"):
            answer = requests.get(f"{portal_server}/api/v1/placenames/{pk}", timeout=10)
        assert answer.status_code == 200  # from the primary
        assert answer.json()["properties"]["name"] == name
        assert any("replica replica1 skipped: replay lag" in r.getMessage() for r in caplog.records)
        ready = requests.get(f"{portal_server}/readyz", timeout=10)
    assert ready.status_code == 200
    state = ready.json()["checks"]["replicas"]
    assert state["degraded"] is True
    assert state["replicas"]["replica1"]["ok"] is False
    assert state["replicas"]["replica1"]["lag_s"] > 0.5
    assert state["replicas"]["replica1"]["host"].endswith(f":{REPLICA_PORT}")


def test_with_the_replica_stopped_the_service_answers_from_the_primary(replica, portal_server, caplog):
    ready = requests.get(f"{portal_server}/readyz", timeout=10).json()["checks"]["replicas"]
    assert ready["degraded"] is False
    assert ready["replicas"]["replica1"]["ok"] is True
    assert 0 <= ready["replicas"]["replica1"]["lag_s"] <= 3600
    replica_sh("stop")
    try:
        with caplog.at_level(logging.WARNING, logger="gis_portal.core.replicas"):
            search = requests.get(f"{portal_server}/api/v1/placenames/search", params={"q": "解放碑"}, timeout=10)
            point = {"lon": 106.5767, "lat": 29.5575}  # 解放碑
            located = requests.get(f"{portal_server}/api/v1/locate", params=point, timeout=10)
            ready = requests.get(f"{portal_server}/readyz", timeout=10)
        assert search.status_code == 200
        assert any(f["properties"]["name"].startswith("解放碑") for f in search.json()["features"])
        assert located.status_code == 200
        assert located.json()["district"]["name"] == "渝中区"
        assert ready.status_code == 200  # the primary answers: ready, with the replica reported down
        state = ready.json()["checks"]["replicas"]
        assert state["degraded"] is True
        assert state["replicas"]["replica1"]["ok"] is False
        assert "OperationalError" in state["replicas"]["replica1"]["error"]
        assert any("replica replica1 skipped" in r.getMessage() for r in caplog.records)
    finally:
        replica_sh("start")
        wait_until_replayed()


def test_a_server_that_is_not_in_recovery_is_never_used_as_a_replica(replica, portal_server, caplog):
    assert connections.settings["replica2"]["PORT"] == (connection.settings_dict["PORT"] or "5432")
    with override_settings(DATABASE_REPLICAS=["replica2"]), caplog.at_level(logging.WARNING):
        state = replicas.check("replica2")
        ready = requests.get(f"{portal_server}/readyz", timeout=10).json()["checks"]["replicas"]
    assert state.ok is False
    assert "not in recovery" in state.error
    assert ready["replicas"]["replica2"]["ok"] is False
    assert "not in recovery" in ready["replicas"]["replica2"]["error"]
    assert any("replica replica2 skipped: not in recovery" in r.getMessage() for r in caplog.records)


def test_a_replica_is_checked_at_most_every_replica_check_seconds(replica):
    with override_settings(REPLICA_CHECK_SECONDS=60), CaptureQueriesContext(connections[replica]) as queries:
        first = replicas.state(replica)
        again = replicas.state(replica)
    assert first.ok and again is first
    assert len([q for q in queries.captured_queries if "pg_is_in_recovery" in q["sql"]]) == 1
    with override_settings(REPLICA_CHECK_SECONDS=0):
        assert replicas.state(replica) is not first  # checked again
    # Outside a request (commands, shells, this test) every read goes to the primary.
    assert replicas.read_alias() == "default"
    with replicas.reading_from_replicas():
        assert replicas.read_alias() == "default"  # the test's transaction is open on the primary
