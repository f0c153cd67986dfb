"""The survey pages: sign-in required, upload form with clear errors, the report, the review."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile

from boundaries.models import BoundaryLine
from boundaries.surveys.models import SurveyUpload
from gis_portal.core.roles import REVIEWER, SURVEYOR

from .test_uploads import CORPUS, LINE, gpx_of, offset_track

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(client, name: str, role: str, team=None):
    user = User.objects.create_user(name, password="unused-in-tests")
    user.groups.add(Group.objects.get(name=role))
    if team is not None:
        team.members.add(user)
    client.force_login(user)
    return client


def test_pages_need_sign_in(client):
    response = client.get("/surveys/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_upload_validate_and_accept_through_the_pages(client):
    line = BoundaryLine.objects.get(code=LINE)
    signed_in(client, "surveyor", SURVEYOR, line.teams.first())
    page = client.get("/surveys/")
    assert page.status_code == 200 and LINE in page.content.decode()

    hostile = client.post(
        "/surveys/",
        {
            "line": LINE,
            "file": SimpleUploadedFile("bomb.zip", (CORPUS / "zip_bomb.zip").read_bytes()),
            "tolerance_m": 5,
            "survey_date": "2026-11-01",
        },
    )
    assert hostile.status_code == 400
    assert "zip bomb" in hostile.content.decode()
    assert not SurveyUpload.objects.exists()

    response = client.post(
        "/surveys/",
        {
            "line": LINE,
            "file": SimpleUploadedFile("walk.gpx", gpx_of(offset_track(line, 10))),
            "tolerance_m": 15,
            "survey_date": "2026-11-01",
        },
    )
    assert response.status_code == 302
    upload = SurveyUpload.objects.get()
    report_page = client.get(response["Location"]).content.decode()
    assert 'id="mean-deviation">10.0' in report_page or 'id="mean-deviation">9.9' in report_page
    assert "Accept into the official record" not in report_page and "接受" not in report_page  # surveyors don't review

    client.logout()
    signed_in(client, "reviewer", REVIEWER)
    # 10 m off a county line fails its 5 m tolerance: the review form asks for an override and a reason.
    review_page = client.get(response["Location"]).content.decode()
    assert 'name="override"' in review_page and 'name="override_reason"' in review_page
    refused = client.post(response["Location"], {"decision": "accept", "comment": "ok"})
    assert refused.status_code == 400 and "override" in refused.content.decode()
    accepted = client.post(
        response["Location"],
        {"decision": "accept", "comment": "ok", "override": "on", "override_reason": "walked 10 m off"},
    )
    assert accepted.status_code == 302
    upload.refresh_from_db()
    assert upload.status == "accepted" and upload.inspection.date.isoformat() == "2026-11-01"
    assert upload.accepted_despite_failure and upload.override_reason == "walked 10 m off"
    assert "walked 10 m off" in client.get(response["Location"]).content.decode()
    line.refresh_from_db()
    assert line.last_inspected.isoformat() >= "2026-11-01"


def test_the_upload_page_is_throttled_with_the_api(client, monkeypatch):
    from boundaries.surveys.api import SurveyUploadThrottle

    monkeypatch.setattr(SurveyUploadThrottle, "rate", "2/hour", raising=False)
    line = BoundaryLine.objects.get(code=LINE)
    signed_in(client, "hasty", SURVEYOR, line.teams.first())
    answers = [
        client.post(
            "/surveys/", {"line": LINE, "file": SimpleUploadedFile("x.dxf", b"0\nEOF\n"), "survey_date": "2026-11-01"}
        ).status_code
        for _ in range(3)
    ]
    assert answers == [415, 415, 429]
    assert client.post("/api/v1/survey-uploads", {"line": LINE}).status_code == 429  # one count for both


def test_an_uploader_with_the_reviewer_role_gets_no_review_form(client):
    line = BoundaryLine.objects.get(code=LINE)
    signed_in(client, "both", SURVEYOR, line.teams.first()).get("/")
    from django.contrib.auth.models import Group, User

    User.objects.get(username="both").groups.add(Group.objects.get(name=REVIEWER))
    response = client.post(
        "/surveys/",
        {
            "line": LINE,
            "file": SimpleUploadedFile("walk.gpx", gpx_of(offset_track(line, 10))),
            "survey_date": "2026-11-01",
        },
    )
    page = client.get(response["Location"]).content.decode()
    assert 'name="decision"' not in page
    assert client.post(response["Location"], {"decision": "return", "comment": "x"}).status_code == 403
