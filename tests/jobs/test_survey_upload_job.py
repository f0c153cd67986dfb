"""Survey files over SURVEY_UPLOAD_JOB_BYTES run as jobs: the upload answers 202 with the job, a
real worker validates the file with the synchronous path's services and writes exactly the upload
that path writes (same features, same report); a file the validation refuses fails the job with
the synchronous answer's code and status; a worker SIGKILLed inside the finishing transaction
leaves no upload, and the retry writes one (one original file on disk, the queued bytes gone); a
file at the threshold is still answered at once, and who may not upload is refused at once.

The job and its bytes are written by requests made in threads of their own (committed), so that the
worker processes see them; what a test committed is deleted at its end."""

import hashlib
import os
import signal
import subprocess
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from boundaries.models import BoundaryLine, SurveyTeam
from boundaries.surveys.models import QueuedSurveyFile, SurveyUpload
from boundaries.surveys.services import SURVEY_UPLOAD_JOB
from gis_portal.core.roles import REVIEWER, SURVEYOR
from gis_portal.jobs.models import Job
from gis_portal.jobs.services import job_run
from tests.helpers import committed
from tests.jobs.conftest import HEARTBEAT_S, ROOT, STALLED_S, database_url, wait_for

pytestmark = pytest.mark.django_db
LINE = "500101-500154"  # 万州区—开州区, a real county line (as in tests/boundaries/surveys)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """The originals go here, in this process and in the workers (started after this fixture)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def track_points(count: int, offset_m: float = 10) -> list[tuple[float, float]]:
    """``count`` points evenly along LINE offset sideways by ``offset_m`` in its Gauss-Krüger zone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsText(ST_Transform(ST_LineInterpolatePoints(ST_OffsetCurve("
            "ST_LineMerge(ST_Transform(geom, 4545)), %s), 1.0 / %s), 4326))"
            " FROM boundaries_boundaryline WHERE code = %s",
            [offset_m, count, LINE],
        )
        wkt = cursor.fetchone()[0]
    return [tuple(map(float, pair.strip(" ()").split())) for pair in wkt[wkt.index("(") + 1 : -1].split(",")]


def gpx(points: list[tuple[float, float]], *, size: int | None = None) -> bytes:
    """A GPX track of ``points``, padded with blanks to exactly ``size`` bytes if given."""
    body = "".join(f'<trkpt lat="{lat:.8f}" lon="{lon:.8f}"></trkpt>' for lon, lat in points)
    data = (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{body}</trkseg></trk></gpx>'
    ).encode()
    if size is not None:
        assert len(data) <= size, (len(data), size)
        data = data.replace(b"</trkseg>", b" " * (size - len(data)) + b"</trkseg>")
    return data


def make_member(role: str, *, team: SurveyTeam | None) -> User:
    user = User.objects.create_user(f"survey-job-{role}-{time.monotonic_ns()}", password="x" * 12)
    user.groups.add(Group.objects.get(name=role))
    if team is not None:
        team.members.add(user)
    return user


@pytest.fixture
def members():
    """Make committed users (``members(role, team)``); their uploads, jobs and memberships go at
    the end (the users stay: the test's own transaction may hold their rows)."""
    made: list[User] = []

    def make(role: str = SURVEYOR, team: SurveyTeam | None = None) -> User:
        made.append(committed(make_member, role, team=team))
        return made[-1]

    yield make

    def remove() -> None:
        ids = [u.pk for u in made]
        SurveyUpload.objects.filter(uploaded_by_id__in=ids).delete()
        Job.objects.filter(owner_id__in=ids).delete()  # and their queued files
        SurveyTeam.members.through.objects.filter(user_id__in=ids).delete()
        User.groups.through.objects.filter(user_id__in=ids).delete()

    committed(remove)


@pytest.fixture
def team():
    return BoundaryLine.objects.get(code=LINE).teams.first()


def client_of(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client: APIClient, name: str, data: bytes, **fields):
    return client.post(
        "/api/v1/survey-uploads",
        {"file": SimpleUploadedFile(name, data), "line": LINE, "survey_date": "2026-11-01", **fields},
        format="multipart",
    )


def post_committed(client: APIClient, name: str, data: bytes, **fields):
    """The upload in a thread of its own: what it writes (the job, its bytes) is committed."""
    return committed(post, client, name, data, **fields)


def features_of(upload_id: int) -> list[tuple]:
    upload = SurveyUpload.objects.get(pk=upload_id)
    return [
        (f.index, f.kind, f.number, bytes(f.geom.wkb), f.inside_municipality, f.distance_m, f.displacement_m)
        for f in upload.features.order_by("index")
    ]


def workers_beating() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > clock_timestamp() - interval '1 second'"
        )
        return cursor.fetchone()[0]


def test_a_large_file_is_validated_by_a_worker_as_the_request_would(start_worker, members, team, settings):
    user = members(SURVEYOR, team)
    client = client_of(user)
    points = track_points(25_000)
    data = gpx(points)
    assert 1.2e6 < len(data) < 1.4e6 and len(data) > settings.SURVEY_UPLOAD_JOB_BYTES
    start_worker()
    wait_for(lambda: committed(workers_beating), timeout_s=60, what="a worker beating")

    started = time.perf_counter()
    answer = post_committed(client, "walk-1.3mb.gpx", data)
    accepted_s = time.perf_counter() - started
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert answer["Location"] == body["url"] == f"/api/v1/jobs/{body['id']}"
    assert (body["kind"], body["status"], body["result"]) == (SURVEY_UPLOAD_JOB, "queued", None)
    job = committed(lambda: Job.objects.get(pk=body["id"]))
    assert job.owner == user
    assert committed(lambda: QueuedSurveyFile.objects.get(job=job).sha256) == hashlib.sha256(data).hexdigest()

    def finished():
        state = client.get(body["url"]).json()
        return state if state["status"] in ("succeeded", "failed") else None

    done = wait_for(finished, timeout_s=90, what="the upload job")
    done_s = time.perf_counter() - started
    assert done["status"] == "succeeded", done
    assert (done["progress"], done["attempts"], done["error_code"], done["error_status"]) == (100, 1, "", None)
    (upload,) = committed(lambda: list(SurveyUpload.objects.filter(job_id=job.pk)))
    assert done["result"] == {
        "upload": upload.pk,
        "url": f"/api/v1/survey-uploads/{upload.pk}",
        "page": f"/surveys/{upload.pk}/",
        "passed": upload.report["passed"],
    }
    assert (upload.uploaded_by_id, upload.line.code, upload.size_bytes) == (user.pk, LINE, len(data))
    assert upload.file.read() == data  # the original kept unchanged
    assert not committed(lambda: QueuedSurveyFile.objects.filter(job_id=job.pk).exists())
    detail = client.get(done["result"]["url"]).json()
    assert detail["report"]["track_deviation"]["points"] == len(points) > 24_000
    assert detail["report"]["track_deviation"]["mean_m"] == pytest.approx(10, abs=1)
    from_job = committed(features_of, upload.pk), upload.report

    # The same file through the synchronous path (threshold raised) gives the same upload.
    committed(lambda: SurveyUpload.objects.filter(pk=upload.pk).delete())
    settings.SURVEY_UPLOAD_JOB_BYTES = len(data)
    started = time.perf_counter()
    synchronous = post(client, "walk-1.3mb.gpx", data)
    synchronous_s = time.perf_counter() - started
    assert synchronous.status_code == 201, synchronous.content
    assert (features_of(synchronous.json()["id"]), synchronous.json()["report"]) == from_job
    assert len(from_job[0]) == 1 and from_job[0][0][1] == "track"
    ran = committed(lambda: Job.objects.get(pk=job.pk))
    print(  # the figures of the report (run with -s to see them)
        f"\n{len(data) / 1e6:.2f} MB GPX, {len(points):,} points: 202 in {accepted_s:.2f} s; job succeeded "
        f"{done_s:.2f} s after the upload began (worker: {(ran.finished_at - ran.started_at).total_seconds():.2f} s "
        f"from start to finish); synchronous 201 in {synchronous_s:.2f} s"
    )


@pytest.mark.parametrize(
    ("name", "spoil", "status", "code"),
    [
        ("cut.gpx", lambda data: data[: len(data) - 40], 400, "invalid_upload"),  # truncated XML
        (
            "json.gpx",
            lambda data: b'{"type": "FeatureCollection", "features": []}' + b" " * len(data),
            415,
            "unsupported_format",
        ),
        ("far.gpx", None, 400, "invalid_upload"),  # nowhere near Chongqing
    ],
)
def test_a_large_file_refused_by_validation_fails_with_the_synchronous_answer(
    members, team, settings, name, spoil, status, code
):
    user = members(SURVEYOR, team)
    client = client_of(user)
    points = track_points(25_000)
    if spoil is None:
        points = [(lon - 10, lat + 10) for lon, lat in points]  # moved 10° north-west, off the region
    data = gpx(points) if spoil is None else spoil(gpx(points))
    assert len(data) > settings.SURVEY_UPLOAD_JOB_BYTES

    answer = post_committed(client, name, data)
    assert answer.status_code == 202, answer.content
    job_id = answer.json()["id"]
    committed(job_run, job_id)  # as a worker runs it
    failed = client.get(f"/api/v1/jobs/{job_id}").json()
    assert (failed["status"], failed["result"], failed["attempts"]) == ("failed", None, 1)
    assert not committed(lambda: SurveyUpload.objects.filter(uploaded_by=user).exists())
    assert not committed(lambda: QueuedSurveyFile.objects.filter(job_id=job_id).exists())

    settings.SURVEY_UPLOAD_JOB_BYTES = len(data)  # the same file, answered in the request
    synchronous = post(client, name, data)
    assert synchronous.status_code == status
    error = synchronous.json()["error"]
    assert (failed["error_status"], failed["error_code"]) == (synchronous.status_code, error["code"])
    assert failed["error"] == error["message"]
    assert error["code"] == code


def test_a_worker_killed_in_the_finishing_transaction_leaves_nothing_and_the_retry_writes_one_upload(
    start_worker, members, team, media_root, tmp_path
):
    user = members(SURVEYOR, team)
    client = client_of(user)
    data = gpx(track_points(25_000))
    body = post_committed(client, "walk.gpx", data).json()
    inside, gate = tmp_path / "inside", tmp_path / "gate"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATABASE_REPLICA_URLS": "",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "MEDIA_ROOT": str(media_root),
        "JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
        "JOBS_STALLED_SECONDS": str(STALLED_S),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "gis_portal.portal.settings",
        "SURVEY_JOB_INSIDE": str(inside),
        "SURVEY_JOB_GATE": str(gate),
    }
    first = subprocess.Popen(
        [os.path.join(ROOT, ".venv/bin/python"), "-m", "tests.jobs.survey_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The first worker has staged and validated the upload and written its original: not committed.
        wait_for(inside.exists, timeout_s=90, what="the upload job's finishing transaction")
        original = media_root / inside.read_text()
        assert original.read_bytes() == data
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)

    state = committed(lambda: Job.objects.get(pk=body["id"]))
    assert (state.status, state.result, state.attempts) == ("running", None, 1)
    assert not committed(lambda: SurveyUpload.objects.filter(uploaded_by=user).exists())
    assert committed(lambda: QueuedSurveyFile.objects.filter(job_id=state.pk).exists())  # kept for the retry

    start_worker()  # the retry, once the first worker has been silent past the threshold
    state = wait_for(
        lambda: (s := committed(lambda: Job.objects.get(pk=body["id"]))).status in ("succeeded", "failed") and s,
        timeout_s=90,
        what="the retried job",
    )
    assert (state.status, state.attempts, state.error) == ("succeeded", 2, "")
    (upload,) = committed(lambda: list(SurveyUpload.objects.filter(uploaded_by=user)))
    assert state.result["upload"] == upload.pk and upload.job_id == state.pk
    # One original on disk: the retry replaced what the killed attempt left under the job's name.
    assert [p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()] == [upload.file.name]
    assert upload.file.name == original.relative_to(media_root).as_posix() and upload.file.read() == data
    assert not committed(lambda: QueuedSurveyFile.objects.filter(job_id=state.pk).exists())

    committed(job_run, state.pk)  # run again (a retry after a kill between commit and ack): nothing new
    assert committed(lambda: SurveyUpload.objects.filter(uploaded_by=user).count()) == 1
    assert committed(lambda: Job.objects.get(pk=state.pk).attempts) == 2


def test_a_file_at_the_threshold_is_answered_at_once_and_one_byte_more_is_a_job(members, team, settings):
    client = client_of(members(SURVEYOR, team))
    points = track_points(15_000)
    threshold = settings.SURVEY_UPLOAD_JOB_BYTES
    at_threshold = post(client, "at.gpx", gpx(points, size=threshold))
    assert at_threshold.status_code == 201, at_threshold.content
    assert at_threshold.json()["size_bytes"] == threshold
    assert at_threshold.json()["report"]["track_deviation"]["points"] == len(points)
    over = post(client, "over.gpx", gpx(points, size=threshold + 1))
    assert over.status_code == 202 and over.json()["kind"] == SURVEY_UPLOAD_JOB
    assert QueuedSurveyFile.objects.get(job_id=over.json()["id"]).data.tobytes() == gpx(points, size=threshold + 1)
    # The same large file again while it waits: refused at once, as a second upload of a file is.
    again = post(client, "over-again.gpx", gpx(points, size=threshold + 1))
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_upload"
    assert f"/api/v1/jobs/{over.json()['id']}" in again.json()["error"]["message"]


def test_who_may_not_upload_is_refused_at_once_whatever_the_size(members, team, settings):
    line = BoundaryLine.objects.get(code=LINE)
    outsider = client_of(members(SURVEYOR, SurveyTeam.objects.exclude(lines=line).first()))
    reviewer = client_of(members(REVIEWER))
    small, large = gpx(track_points(2_000)), gpx(track_points(25_000))
    assert len(small) < settings.SURVEY_UPLOAD_JOB_BYTES < len(large)
    jobs_before = Job.objects.count()
    for client in (outsider, reviewer):
        answers = [post(client, "walk.gpx", small), post(client, "walk.gpx", large)]
        assert [a.status_code for a in answers] == [403, 403]
        assert [a.json()["error"]["code"] for a in answers] == ["forbidden", "forbidden"]
        assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"]
    unknown_line = post(outsider, "walk.gpx", large, line="no-such-line")
    assert unknown_line.status_code == 404
    assert Job.objects.count() == jobs_before and not QueuedSurveyFile.objects.exists()
