"""The upload page with a file over SURVEY_UPLOAD_JOB_BYTES, without a browser: it answers 202 with
the job's URL (Location, and on the page for its script to follow) and a fresh form; the job, run
as a worker runs it, links the upload's report page; a refused file's job carries the status, code
and message the page's own synchronous answer has; who may not upload is refused at once; the
script that follows the job writes text, never HTML."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape

from boundaries.models import BoundaryLine, SurveyTeam
from boundaries.surveys.models import QueuedSurveyFile, SurveyUpload
from gis_portal.core.roles import REVIEWER, SURVEYOR
from gis_portal.jobs.models import Job
from gis_portal.jobs.services import job_run
from tests.helpers import committed
from tests.jobs.test_survey_upload_job import LINE, gpx, make_member, track_points

pytestmark = pytest.mark.django_db
SCRIPT = Path(__file__).resolve().parents[2] / "boundaries/surveys/static/surveys/upload_job.js"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def signed_in():
    """A committed user of ``role`` signed in to a test client (their uploads and jobs go at the end)."""
    made: list[User] = []

    def sign_in(role: str, team: SurveyTeam | None) -> Client:
        made.append(committed(make_member, role, team=team))
        client = Client()
        committed(client.force_login, made[-1])
        return client

    yield sign_in

    def remove() -> None:
        ids = [u.pk for u in made]
        SurveyUpload.objects.filter(uploaded_by_id__in=ids).delete()
        Job.objects.filter(owner_id__in=ids).delete()
        SurveyTeam.members.through.objects.filter(user_id__in=ids).delete()
        User.groups.through.objects.filter(user_id__in=ids).delete()

    committed(remove)


def page_post(client: Client, name: str, data: bytes):
    form = {"line": LINE, "file": SimpleUploadedFile(name, data), "survey_date": "2026-11-01"}
    return committed(client.post, "/surveys/", form)


def test_the_page_answers_202_with_the_job_and_the_job_links_the_report(signed_in, settings):
    team = BoundaryLine.objects.get(code=LINE).teams.first()
    client = signed_in(SURVEYOR, team)
    data = gpx(track_points(25_000))
    assert len(data) > settings.SURVEY_UPLOAD_JOB_BYTES
    answer = page_post(client, "walk.gpx", data)
    assert answer.status_code == 202
    job_url = answer["Location"]
    job_id = int(re.fullmatch(r"/api/v1/jobs/(\d+)", job_url).group(1))
    html = answer.content.decode()
    assert f'data-job-url="{job_url}"' in html and 'data-state="queued"' in html
    assert '<script src="/static/jobs/jobs.js">' in html and '<script src="/static/surveys/upload_job.js">' in html
    assert 'name="file"' in html and "errorlist" not in html  # a fresh form under the job
    assert committed(lambda: QueuedSurveyFile.objects.filter(job_id=job_id).count()) == 1

    committed(job_run, job_id)  # as a worker runs it
    job = client.get(job_url).json()
    assert job["status"] == "succeeded"
    upload = committed(lambda: SurveyUpload.objects.get(job_id=job_id))
    assert job["result"]["page"] == f"/surveys/{upload.pk}/"
    report = client.get(job["result"]["page"])
    assert report.status_code == 200 and "walk.gpx" in report.content.decode()
    # The list on the page shows the upload, as one made at once would be.
    assert f'href="/surveys/{upload.pk}/"' in client.get("/surveys/").content.decode()


def test_a_refused_large_file_has_the_pages_synchronous_answer(signed_in, settings):
    team = BoundaryLine.objects.get(code=LINE).teams.first()
    client = signed_in(SURVEYOR, team)
    data = gpx(track_points(25_000))[:-40]  # cut short
    answer = page_post(client, "cut.gpx", data)
    assert answer.status_code == 202
    job_id = int(answer["Location"].rsplit("/", 1)[1])
    committed(job_run, job_id)
    job = client.get(answer["Location"]).json()
    assert job["status"] == "failed"

    settings.SURVEY_UPLOAD_JOB_BYTES = len(data)  # the same file, answered by the page itself
    synchronous = client.post(
        "/surveys/", {"line": LINE, "file": SimpleUploadedFile("cut.gpx", data), "survey_date": "2026-11-01"}
    )
    assert (job["error_status"], job["error_code"]) == (synchronous.status_code, "invalid_upload")
    assert escape(job["error"]) in synchronous.content.decode()


def test_who_may_not_upload_is_refused_by_the_page_at_once(signed_in):
    reviewer = signed_in(REVIEWER, None)
    jobs_before = committed(Job.objects.count)
    refused = page_post(reviewer, "walk.gpx", gpx(track_points(25_000)))
    assert refused.status_code == 403 and 'id="upload-job"' not in refused.content.decode()
    assert committed(Job.objects.count) == jobs_before


def test_the_script_writes_text_never_html():
    script = SCRIPT.read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    assert "textContent" in script and "data-job-url" in script and "error_code" in script
