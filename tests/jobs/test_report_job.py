"""The coverage report and the printed register as jobs: POST answers 202, the job (run here in-process, as a worker
would) writes one HTML file of its own, kept with the job in the database and served to the owner by
the job's result URL from any app server; running it again replaces nothing and adds nothing."""

import subprocess
import time

import pytest
from django.contrib.auth.models import User

from facilities.tasks import REPORT_JOB, SUGGEST_JOB
from gis_portal.jobs.models import Job, JobFile
from gis_portal.jobs.services import job_enqueue, job_run
from placenames.office.tasks import REGISTER_JOB
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def test_the_report_job_writes_one_file_served_to_its_owner(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    user = committed(lambda: User.objects.create_user(f"jobs-report-{time.monotonic_ns()}", password="x" * 12))
    client.force_login(user)
    started = client.post(
        "/api/v1/coverage/report/jobs", {"category": "cemetery", "district": "500241", "k": 2}, "application/json"
    )
    assert started.status_code == 202 and started.json()["kind"] == REPORT_JOB
    both = client.post(
        "/api/v1/coverage/report/jobs",
        {"category": "elder_station", "district": "500103", "cluster": "main-city"},
        "application/json",
    )
    assert both.status_code == 400

    params = {"category": "cemetery", "district_code": "500241", "cluster": None, "k": 2}
    job = committed(job_enqueue, kind=REPORT_JOB, params=params, owner=user)
    try:
        committed(job_run, job.pk)
        body = client.get(f"/api/v1/jobs/{job.pk}").json()
        assert (body["status"], body["progress"], body["attempts"]) == ("succeeded", 100, 1)
        assert body["result_url"] == f"/api/v1/jobs/{job.pk}/file"
        assert body["result"]["name"] == "coverage-cemetery-500241.html"
        download = client.get(body["result_url"])
        html = b"".join(download.streaming_content).decode("utf-8")
        assert download.status_code == 200 and "coverage-cemetery-500241.html" in download["Content-Disposition"]
        assert (
            len(html.encode("utf-8")) == body["result"]["bytes"]
            and "秀山土家族苗族自治县" in html
            and "Leaflet 1.9" in html
        )
        # Kept with the job in the database, not on this worker's disk: another app server (another
        # MEDIA_ROOT) serves the same bytes.
        assert list(JobFile.objects.filter(job=job).values_list("name", "size")) == [
            ("coverage-cemetery-500241.html", body["result"]["bytes"])
        ]
        assert not any(tmp_path.iterdir())
        settings.MEDIA_ROOT = str(tmp_path / "another-server")
        again = client.get(body["result_url"])
        assert again.status_code == 200 and b"".join(again.streaming_content).decode("utf-8") == html

        committed(job_run, job.pk)  # a retry of a finished job
        assert committed(lambda: Job.objects.get(pk=job.pk).attempts) == 1
        assert JobFile.objects.filter(job=job).count() == 1
    finally:
        committed(lambda: Job.objects.filter(owner=user).delete())


def test_the_register_job_writes_the_pdf(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    user = committed(lambda: User.objects.create_user(f"jobs-register-{time.monotonic_ns()}", password="x" * 12))
    client.force_login(user)
    assert client.post("/api/v1/naming/registers/999999/pdf/jobs").status_code == 400
    started = client.post("/api/v1/naming/registers/500103/pdf/jobs")
    assert started.status_code == 202 and started.json()["kind"] == REGISTER_JOB

    job = committed(job_enqueue, kind=REGISTER_JOB, params={"district_code": "500103"}, owner=user)
    try:
        committed(job_run, job.pk)
        body = client.get(f"/api/v1/jobs/{job.pk}").json()
        assert body["status"] == "succeeded" and body["result"]["name"] == "register-500103.pdf"
        pdf = b"".join(client.get(body["result_url"]).streaming_content)
        assert pdf.startswith(b"%PDF") and len(pdf) == body["result"]["bytes"]
        path = tmp_path / "register.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert "渝中区" in text and "解放碑街道" in text
    finally:
        committed(lambda: Job.objects.filter(owner=user).delete())


def test_a_job_refused_by_its_work_fails_with_the_reason(client):
    user = committed(lambda: User.objects.create_user(f"jobs-failing-{time.monotonic_ns()}", password="x" * 12))
    client.force_login(user)
    params = {"category": "elder_institution", "k": 2, "district_code": None, "weight": "population"}
    job = committed(job_enqueue, kind=SUGGEST_JOB, params=params, owner=user)
    try:
        committed(job_run, job.pk)  # a capacity rule has no sites: refused, not retried
        body = client.get(f"/api/v1/jobs/{job.pk}").json()
        assert (body["status"], body["result"], body["result_url"]) == ("failed", None, None)
        assert "capacity rule" in body["error"] and body["finished_at"]
    finally:
        committed(lambda: Job.objects.filter(owner=user).delete())
