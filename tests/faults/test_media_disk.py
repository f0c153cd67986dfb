"""The disk that keeps the survey uploads' originals (MEDIA_ROOT) is full: an upload, through the
API or the upload page, answers 507 with the reason, and leaves no row, no staged feature and no
file (not even a truncated one).

The full disk is a small tmpfs mounted for the test and filled to the last byte; mounting needs
root (CI runs as root), so the test is skipped elsewhere. It is unmounted at the end."""

import os
import subprocess

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from boundaries.surveys.models import StagedFeature, SurveyUpload
from gis_portal.core.roles import SURVEYOR
from tests.boundaries.surveys.test_uploads import LINE, gpx_of, member, offset_track, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_media_root(tmp_path, settings):
    mount = tmp_path / "media"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0750", "tmpfs", str(mount)], check=False)
    if mounted.returncode != 0:
        pytest.skip("this machine does not let the test mount a tmpfs")
    try:
        filler = mount / "filler"
        with filler.open("wb", buffering=0) as out:  # fill it to the last byte
            for size in (65536, 4096, 1):
                try:
                    while out.write(b"\0" * size):
                        pass
                except OSError:
                    pass
        settings.MEDIA_ROOT = mount
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def files_under(path):
    return sorted(p.relative_to(path) for p in path.rglob("*") if p.is_file())


def test_a_full_disk_answers_507_and_writes_nothing(full_media_root):
    from boundaries.models import BoundaryLine

    line = BoundaryLine.objects.get(code=LINE)
    surveyor = member("surveyor", SURVEYOR, line.teams.first())
    data = gpx_of(offset_track(line, 10))
    before = (SurveyUpload.objects.count(), StagedFeature.objects.count())

    response = upload(surveyor, "walk.gpx", data)

    assert response.status_code == 507, response.content
    assert response.json()["error"]["code"] == "insufficient_storage"
    assert "walk.gpx" in response.json()["error"]["message"]
    assert (SurveyUpload.objects.count(), StagedFeature.objects.count()) == before
    assert [str(p) for p in files_under(full_media_root)] == ["filler"]  # no partial original

    page_user = User.objects.get(username="surveyor")
    page = Client()
    page.force_login(page_user)
    form = {"line": LINE, "file": SimpleUploadedFile("walk.gpx", data), "survey_date": "2026-11-01"}
    answer = page.post("/surveys/", form)
    assert answer.status_code == 507 and "walk.gpx" in answer.content.decode()  # the form again, with why
    assert (SurveyUpload.objects.count(), StagedFeature.objects.count()) == before
    assert [str(p) for p in files_under(full_media_root)] == ["filler"]

    (full_media_root / "filler").unlink()  # room again: the same upload is taken
    accepted = upload(surveyor, "walk.gpx", data)
    assert accepted.status_code == 201, accepted.content
    stored = SurveyUpload.objects.get(pk=accepted.json()["id"])
    with stored.file.open("rb") as original:
        assert stored.file.path.startswith(str(full_media_root)) and original.read() == data
