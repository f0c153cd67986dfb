"""The upload page in a browser with a file over SURVEY_UPLOAD_JOB_BYTES: the 202 page says the job
waits for a worker; once a real worker runs it, the page shows the outcome and links the upload's
report; a file the validation refuses shows the refusal with its error code and HTTP status."""

import pytest
from django.contrib.auth.models import Group, User

from boundaries.models import BoundaryLine
from boundaries.surveys.models import SurveyUpload
from gis_portal.core.roles import SURVEYOR
from gis_portal.jobs.models import Job
from tests.helpers import committed, wait_until
from tests.jobs.test_survey_upload_job import LINE, gpx, track_points
from tests.security.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
USERNAME = "survey-job-page-user"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _make_user() -> None:
    _remove_user()  # a run stopped half-way may have left one
    user = User.objects.create_user(USERNAME, password=PASSWORD)
    user.groups.add(Group.objects.get(name=SURVEYOR))
    BoundaryLine.objects.get(code=LINE).teams.first().members.add(user)


def _remove_user() -> None:
    SurveyUpload.objects.filter(uploaded_by__username=USERNAME).delete()
    Job.objects.filter(owner__username=USERNAME).delete()
    User.objects.filter(username=USERNAME).delete()


def upload_through_the_page(page, server: str, name: str, data: bytes) -> None:
    page.goto(server + "/surveys/")
    page.select_option("#id_line", LINE)
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "application/gpx+xml", "buffer": data}])
    page.fill("#id_survey_date", "2026-11-01")
    page.click("form.upload-form button[type=submit]")
    page.wait_for_selector("#upload-job", timeout=30_000)


def test_the_page_follows_the_job_to_the_report_or_the_refusal(page, portal_server, start_worker, settings):
    committed(_make_user)
    try:
        sign_in(page, portal_server, USERNAME)
        data = gpx(track_points(25_000))
        assert len(data) > settings.SURVEY_UPLOAD_JOB_BYTES
        upload_through_the_page(page, portal_server, "walk.gpx", data)
        # No worker yet: the page says the job waits.
        wait_until(page, "document.getElementById('upload-job-status').textContent === '排队等待处理…'")

        start_worker()
        page.wait_for_selector("#upload-job[data-state='succeeded']", timeout=90_000)
        upload = committed(lambda: SurveyUpload.objects.get(uploaded_by__username=USERNAME))
        assert page.get_attribute("#upload-job-link", "href") == f"/surveys/{upload.pk}/"
        assert page.is_visible("#upload-job-link") and page.is_hidden("#upload-job-error")
        # 10 m off a county line held to 5 m: validated, not passed.
        assert page.text_content("#upload-job-status") == "校验完成：报告未通过，由审核人决定。"
        page.click("#upload-job-link")
        page.wait_for_selector("#report-map[data-loaded]", timeout=30_000)

        upload_through_the_page(page, portal_server, "cut.gpx", gpx(track_points(25_001))[:-40])
        page.wait_for_selector("#upload-job[data-state='failed']", timeout=90_000)
        error = page.text_content("#upload-job-error")
        assert error.endswith("(invalid_upload, HTTP 400)") and error.startswith("the XML is malformed or truncated")
        assert page.text_content("#upload-job-status") == "文件被拒收，未保存任何内容："
        assert page.is_hidden("#upload-job-result")
        assert page.errors == []
    finally:
        committed(_remove_user)
