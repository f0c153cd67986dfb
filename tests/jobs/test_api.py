"""The jobs' API without a worker: starting suggestions as a job answers 202 with the job's URL
(the job and procrastinate's row written together), bad arguments 400 with nothing queued, a job
is seen by its owner and staff only, and readiness counts what waits."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from gis_portal.jobs.models import Job

pytestmark = pytest.mark.django_db


def queued_in_procrastinate(queue_job_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, status, args FROM procrastinate_jobs WHERE id = %s", [queue_job_id])
        task_name, status, args = cursor.fetchone()
        return task_name, status, json.loads(args)  # Django's psycopg2 connection leaves jsonb as text


@pytest.fixture
def planner(client):
    user = User.objects.create_user("jobs-planner", password="x" * 12)
    client.force_login(user)
    return user


def test_starting_suggestions_answers_202_with_the_job(client, planner):
    answer = client.post(
        "/api/v1/coverage/suggest/jobs", {"category": "elder_station", "k": 2}, content_type="application/json"
    )
    assert answer.status_code == 202
    body = answer.json()
    assert answer["Location"] == body["url"] == f"/api/v1/jobs/{body['id']}"
    assert (body["status"], body["progress"], body["result"], body["kind"]) == ("queued", 0, None, "facilities.suggest")
    job = Job.objects.get(pk=body["id"])
    assert job.owner == planner
    assert job.params == {"category": "elder_station", "k": 2, "district_code": None, "weight": "population"}
    assert queued_in_procrastinate(job.queue_job_id) == ("facilities.suggest", "todo", {"job_id": job.pk})
    assert client.get(body["url"]).json()["status"] == "queued"


def test_bad_arguments_queue_nothing(client, planner):
    before = Job.objects.count()
    capacity = client.post(
        "/api/v1/coverage/suggest/jobs", {"category": "elder_institution"}, content_type="application/json"
    )
    assert capacity.status_code == 400 and "capacity" in capacity.json()["error"]["message"]
    unknown = client.post("/api/v1/coverage/suggest/jobs", {"category": "zoo"}, content_type="application/json")
    assert unknown.status_code == 400
    assert Job.objects.count() == before


def test_anonymous_cannot_start_and_others_cannot_see(client, planner):
    job_url = client.post(
        "/api/v1/coverage/suggest/jobs", {"category": "elder_station"}, content_type="application/json"
    ).json()["url"]
    client.logout()
    assert client.post("/api/v1/coverage/suggest/jobs", {"category": "elder_station"}).status_code in (401, 403)
    assert client.get(job_url).status_code == 404
    client.force_login(User.objects.create_user("jobs-other", password="x" * 12))
    assert client.get(job_url).status_code == 404
    client.force_login(User.objects.create_user("jobs-staff", password="x" * 12, is_staff=True))
    assert client.get(job_url).json()["status"] == "queued"


def test_readiness_counts_the_waiting_jobs(client, planner):
    idle = client.get("/readyz").json()["checks"]["queue"]
    for _ in range(2):
        client.post("/api/v1/coverage/suggest/jobs", {"category": "elder_station"}, content_type="application/json")
    Job.objects.filter(owner=planner).update(created_at=timezone.now() - timedelta(seconds=90))
    queue = client.get("/readyz").json()["checks"]["queue"]
    assert queue["ok"] and queue["waiting"] == idle["waiting"] + 2
    assert 90 <= queue["oldest_waiting_s"] < 120
    assert queue["degraded"] == (queue["workers"] == 0)
