"""Jobs through real worker processes: a job runs to the end and its page API shows progress and
result; a worker SIGKILLed in the middle of writing the result leaves nothing half-written, and
the job, retried by another worker once the first stops beating, finishes exactly once."""

import signal
import time

import pytest
from django.contrib.auth.models import User

from facilities.suggestions import coverage_suggest
from facilities.tasks import SUGGEST_JOB
from gis_portal.jobs.models import Job
from gis_portal.jobs.services import job_enqueue, job_run
from tests.helpers import committed
from tests.jobs.conftest import HEARTBEAT_S, STALLED_S, wait_for
from tests.jobs.probe import PROBE_JOB

pytestmark = pytest.mark.django_db


def job_state(job_id: int) -> Job:
    return committed(lambda: Job.objects.get(pk=job_id))


@pytest.fixture
def owner():
    user = committed(lambda: User.objects.create_user(f"jobs-owner-{time.monotonic_ns()}", password="x" * 12))
    yield user
    # The user stays (the test's transaction, which signed them in, holds their row until it ends).
    committed(lambda: Job.objects.filter(owner=user).delete())


def test_suggestions_run_on_a_worker_with_progress_and_result(start_worker, owner, client):
    params = {"category": "elder_station", "k": 3, "district_code": None, "weight": "population"}
    job = committed(job_enqueue, kind=SUGGEST_JOB, params=params, owner=owner)
    client.force_login(owner)
    queued = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert (queued["status"], queued["progress"], queued["result"]) == ("queued", 0, None)

    start_worker()
    seen = []

    def finished():
        body = client.get(f"/api/v1/jobs/{job.pk}").json()
        seen.append((body["status"], body["progress"], body["message"]))
        return body if body["status"] in ("succeeded", "failed") else None

    body = wait_for(finished, timeout_s=90, what="the suggestion job")
    assert body["status"] == "succeeded", body["error"]
    assert body["progress"] == 100 and body["attempts"] == 1
    result = body["result"]
    assert result == coverage_suggest(**params)  # the worker's answer is the synchronous API's
    assert result["type"] == "FeatureCollection" and result["k"] == 3 and result["category"] == "elder_station"
    assert len(result["features"]) == 3
    assert [f["properties"]["rank"] for f in result["features"]] == list(range(1, len(result["features"]) + 1))
    assert result["population_newly_covered"] == sum(
        f["properties"]["population_newly_covered"] for f in result["features"]
    )
    # What a page polling the job saw: only these states, progress never going back.
    assert {status for status, _, _ in seen} <= {"queued", "running", "succeeded"}
    progress = [p for _, p, _ in seen]
    assert progress == sorted(progress)
    assert {m for s, _, m in seen if s == "running"} & {"demand", "candidates", "solving"}
    # Readiness shows the queue: the worker beating, nothing waiting.
    queue = client.get("/readyz").json()["checks"]["queue"]
    assert queue["ok"] and queue["workers"] >= 1 and queue["waiting"] == 0 and not queue["degraded"]


def test_a_worker_killed_mid_commit_leaves_nothing_and_the_retry_finishes_once(start_worker, owner, effects, tmp_path):
    gate, inside = tmp_path / "gate", tmp_path / "inside"
    job = committed(job_enqueue, kind=PROBE_JOB, params={"gate": str(gate), "inside": str(inside)}, owner=owner)
    first = start_worker()
    # The first worker is inside the finishing transaction: its side effect is written, not committed.
    wait_for(inside.exists, timeout_s=60, what="the probe's finishing transaction")
    assert effects(job.pk) == 0
    started = time.monotonic()
    first.send_signal(signal.SIGKILL)
    first.wait(10)

    state = job_state(job.pk)
    assert (state.status, state.result, state.progress, state.attempts) == ("running", None, 50, 1)
    assert effects(job.pk) == 0

    gate.write_text("go")
    start_worker()
    state = wait_for(lambda: (s := job_state(job.pk)).status == "succeeded" and s, timeout_s=60, what="the retried job")
    retried_after = time.monotonic() - started
    assert state.attempts == 2
    assert state.result["answer"] == 42
    assert effects(job.pk) == 1
    # Retried only once the dead worker had been silent past the threshold (and not much later). Its
    # silence began at its last heartbeat, up to one heartbeat interval before the kill.
    assert STALLED_S - HEARTBEAT_S <= retried_after < STALLED_S + 20
    # Once finished, running the job again (a retry after a kill between commit and ack) writes nothing.
    committed(job_run, job.pk)
    assert effects(job.pk) == 1
    assert job_state(job.pk).attempts == 2
