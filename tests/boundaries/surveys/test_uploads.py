"""Survey uploads through the API: who may do what, the hostile corpus (4xx, nothing written, the
server still answering), duplicates, deviation and displacement in metres against a real county
line, and a reviewer's acceptance changing the official record with its history kept."""

import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from pyproj import Geod
from rest_framework.test import APIClient

from boundaries.models import BoundaryLine, Inspection, Marker, SurveyTeam
from boundaries.surveys import services
from boundaries.surveys.models import StagedFeature, SurveyUpload
from gis_portal.core.roles import REVIEWER, SURVEYOR
from tests.pure.test_survey_files import HOSTILE

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).parent / "corpus"
LINE = "500101-500154"  # 万州区—开州区, a real county line
GEOD = Geod(ellps="GRS80")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def member(name: str, role: str, team: SurveyTeam | None = None) -> APIClient:
    user = User.objects.create_user(name, password="unused-in-tests")
    user.groups.add(Group.objects.get(name=role))
    if team is not None:
        team.members.add(user)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def line():
    return BoundaryLine.objects.get(code=LINE)


@pytest.fixture
def surveyor(line):
    return member("surveyor", SURVEYOR, line.teams.first())


@pytest.fixture
def reviewer():
    return member("reviewer", REVIEWER)


def gpx_of(points: list[tuple[float, float]]) -> bytes:
    body = "".join(f'<trkpt lat="{lat:.8f}" lon="{lon:.8f}"></trkpt>' for lon, lat in points)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{body}</trkseg></trk></gpx>'
    ).encode()


def offset_track(line: BoundaryLine, metres: float) -> list[tuple[float, float]]:
    """The line's vertices offset sideways by ``metres`` in its Gauss-Krüger zone (EPSG:4545)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsText(ST_Transform(ST_OffsetCurve(ST_LineMerge(ST_Transform(geom, 4545)), %s), 4326))"
            " FROM boundaries_boundaryline WHERE id = %s",
            [metres, line.id],
        )
        wkt = cursor.fetchone()[0]
    return [tuple(map(float, pair.split())) for pair in wkt[wkt.index("(") + 1 : -1].split(",")]


def upload(client: APIClient, name: str, data: bytes, line: str = LINE, **fields):
    return client.post(
        "/api/v1/survey-uploads", {"file": SimpleUploadedFile(name, data), "line": line, **fields}, format="multipart"
    )


def test_anonymous_gets_401_on_every_write(line):
    anonymous = APIClient()
    writes = [
        ("/api/v1/survey-uploads", {"line": LINE}),
        ("/api/v1/survey-uploads/1/review", {"decision": "accept"}),
        ("/api/v1/divisions", {}),
        ("/api/v1/boundary-lines", {}),
        ("/api/v1/markers", {}),
    ]
    for path, body in writes:
        response = anonymous.post(path, body)
        assert response.status_code in (401, 403), path
        assert "error" in response.json()
    assert anonymous.get("/api/v1/survey-uploads").status_code == 401


def test_surveyor_cannot_upload_for_another_teams_line(line):
    other_team = SurveyTeam.objects.exclude(lines=line).first()
    outsider = member("outsider", SURVEYOR, other_team)
    response = upload(outsider, "walk.gpx", gpx_of(offset_track(line, 10)))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    reviewer_only = member("staff", REVIEWER)
    assert upload(reviewer_only, "walk.gpx", gpx_of(offset_track(line, 10))).status_code == 403
    assert not SurveyUpload.objects.exists()


@pytest.mark.parametrize(("name", "crs", "status", "reason"), HOSTILE)
def test_hostile_file_gets_4xx_writes_nothing_and_the_server_answers(surveyor, media_root, name, crs, status, reason):
    response = upload(surveyor, name, (CORPUS / name).read_bytes(), **({"crs": crs} if crs else {}))
    assert 400 <= response.status_code < 500
    assert response.status_code == (400 if crs == "EPSG:3857" else status)  # 3857 fails the form's own check
    assert response.json()["error"]["message"]
    assert not SurveyUpload.objects.exists() and not StagedFeature.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.*"))
    assert APIClient().get("/api/v1/locate", {"lon": 106.5767, "lat": 29.5575}).status_code == 200


def test_track_offset_by_10_m_reports_10_m(surveyor, line, django_capture_on_commit_callbacks):
    track = offset_track(line, 10)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(surveyor, "walk.gpx", gpx_of(track))
    assert response.status_code == 201, response.content
    body = response.json()
    deviation = body["report"]["track_deviation"]
    assert deviation["points"] == len(track)
    assert deviation["mean_m"] == pytest.approx(10, abs=1)
    # The tolerance is the county level's (5 m, from data with its source), not the uploader's.
    assert (body["tolerance_m"], body["report"]["tolerance_m"]) == (5.0, 5.0)
    assert "GB/T 17796-2009" in body["tolerance_source"] and body["report"]["tolerance_source"]
    assert deviation["share_within"] < 0.05 and body["report"]["passed"] is False
    assert body["status"] == "validated" and body["crs"] == 4326 and body["crs_source"] == "format"
    # Kept unchanged: the stored file is byte for byte the upload.
    stored = SurveyUpload.objects.get(pk=body["id"])
    assert stored.file.read() == gpx_of(track)
    # Nothing official changed yet.
    assert line.inspections.filter(is_synthetic=False).count() == 0


def test_duplicate_upload_points_to_the_first(surveyor, line):
    data = gpx_of(offset_track(line, 10))
    first = upload(surveyor, "walk.gpx", data).json()
    again = upload(surveyor, "same-walk.gpx", data)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "duplicate_upload"
    assert error["details"]["first_upload"] == first["id"]
    assert SurveyUpload.objects.count() == 1


def moved_markers_csv(markers: list[Marker], metres: float) -> bytes:
    rows = ["number,lon,lat,status,crs"]
    for marker in markers:
        lon, lat, _ = GEOD.fwd(marker.geom.x, marker.geom.y, 90, metres)  # due east
        rows.append(f"{marker.number},{lon:.9f},{lat:.9f},damaged,EPSG:4490")
    return ("\n".join(rows) + "\n").encode()


def test_markers_moved_by_a_known_distance_report_it_and_acceptance_updates_the_record(surveyor, reviewer, line):
    markers = list(line.markers.order_by("sequence")[:3])
    originals = {m.number: (m.geom.x, m.geom.y, m.status) for m in markers}
    data = moved_markers_csv(markers, 7.5) + b"999-unknown-001S,108.5,30.9,intact,EPSG:4490\n"
    response = upload(surveyor, "markers.csv", data)
    assert response.status_code == 201, response.content
    report = response.json()["report"]
    assert report["markers_matched"] == 3
    assert report["unknown_numbers"] == ["999-unknown-001S"]
    displacements = [row["displacement_m"] for row in report["per_feature"] if row["matched_marker"]]
    assert displacements == [pytest.approx(7.5, abs=0.01)] * 3
    assert report["marker_displacement"]["share_within"] == 0
    assert set(report["expected_missing"]) == set(line.markers.values_list("number", flat=True)) - set(originals)
    assert report["passed"] is False
    upload_id = response.json()["id"]

    # Only a reviewer accepts; the surveyor cannot.
    review = f"/api/v1/survey-uploads/{upload_id}/review"
    assert surveyor.post(review, {"decision": "accept"}).status_code == 403
    # The report did not pass: accepting needs an explicit override with a reason.
    for body in ({}, {"override": True}, {"override": True, "override_reason": "  "}):
        refused = reviewer.post(review, {"decision": "accept", "comment": "ok", **body})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "override_required"
    accepted = reviewer.post(
        review, {"decision": "accept", "comment": "ok", "override": True, "override_reason": "stakes re-set 2026"}
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert (accepted.json()["accepted_despite_failure"], accepted.json()["override_reason"]) == (
        True,
        "stakes re-set 2026",
    )
    inspection = Inspection.objects.get(survey_upload__pk=upload_id)
    assert inspection.result == "problem" and inspection.marker_checks.count() == 3
    assert "accepted despite a failed report: stakes re-set 2026" in inspection.findings
    for marker in line.markers.filter(number__in=originals):
        lon, lat, status = originals[marker.number]
        assert marker.status == "damaged"
        assert GEOD.inv(lon, lat, marker.geom.x, marker.geom.y)[2] == pytest.approx(7.5, abs=0.01)
        previous = marker.history.order_by("history_date")[0]  # the value before acceptance
        assert (previous.geom.x, previous.geom.y, previous.status) == (lon, lat, status)
        assert marker.history.latest().history_user.username == "reviewer"
    line.refresh_from_db()
    assert line.status == "problem"
    # Reviewed once only.
    assert (
        reviewer.post(f"/api/v1/survey-uploads/{upload_id}/review", {"decision": "return", "comment": "x"}).status_code
        == 409
    )
    # Every step is audited: created by the surveyor, reviewed by the reviewer.
    history = SurveyUpload.objects.get(pk=upload_id).history.order_by("history_date")
    assert [(h.status, h.history_user.username) for h in history] == [
        ("validated", "surveyor"),
        ("accepted", "reviewer"),
    ]


def test_returning_needs_a_comment_and_changes_nothing_official(surveyor, reviewer, line):
    markers = list(line.markers.order_by("sequence")[:1])
    upload_id = upload(surveyor, "m.csv", moved_markers_csv(markers, 3)).json()["id"]
    assert reviewer.post(f"/api/v1/survey-uploads/{upload_id}/review", {"decision": "return"}).status_code == 400
    returned = reviewer.post(f"/api/v1/survey-uploads/{upload_id}/review", {"decision": "return", "comment": "redo"})
    assert returned.json()["status"] == "returned"
    marker = Marker.objects.get(pk=markers[0].pk)
    assert (marker.geom.x, marker.geom.y) == (markers[0].geom.x, markers[0].geom.y)


def test_a_surveyor_sees_only_their_teams_uploads(surveyor, line):
    upload_id = upload(surveyor, "walk.gpx", gpx_of(offset_track(line, 10))).json()["id"]
    outsider = member("outsider", SURVEYOR, SurveyTeam.objects.exclude(lines=line).first())
    assert outsider.get(f"/api/v1/survey-uploads/{upload_id}").status_code == 404
    assert outsider.get("/api/v1/survey-uploads").json() == []
    assert surveyor.get(f"/api/v1/survey-uploads/{upload_id}").json()["id"] == upload_id


def test_another_team_uploading_the_same_bytes_learns_nothing_of_the_first(surveyor, line):
    data = gpx_of(offset_track(line, 10))
    first = upload(surveyor, "A-team walk 万州.gpx", data).json()
    other_team = SurveyTeam.objects.exclude(lines=line).filter(lines__isnull=False).first()
    outsider = member("outsider", SURVEYOR, other_team)
    again = upload(outsider, "b.gpx", data, line=other_team.lines.first().code)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "duplicate_upload"
    assert error["message"] == "this file was already uploaded by another team; nothing was stored"
    assert not error.get("details")
    for leak in (str(first["id"]), "万州", "A-team", first["page"], first["uploaded_at"][:10]):
        assert leak not in again.content.decode()


def test_the_tolerance_is_not_the_uploaders(surveyor, line):
    response = upload(surveyor, "walk.gpx", gpx_of(offset_track(line, 10)), tolerance_m=500)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "tolerance_not_accepted"
    assert "line's level" in response.json()["error"]["message"]
    assert not SurveyUpload.objects.exists()


def test_nobody_reviews_their_own_upload(line):
    team = line.teams.first()
    both = member("both", SURVEYOR, team)
    User.objects.get(username="both").groups.add(Group.objects.get(name=REVIEWER))
    admin = member("admin", SURVEYOR, team)
    User.objects.filter(username="admin").update(is_superuser=True, is_staff=True)
    admin.force_authenticate(User.objects.get(username="admin"))
    for client, name in ((both, "both.gpx"), (admin, "admin.gpx")):
        upload_id = upload(client, name, gpx_of(offset_track(line, 10 + len(name)))).json()["id"]
        for decision in (
            {"decision": "accept", "override": True, "override_reason": "x"},
            {"decision": "return", "comment": "x"},
        ):
            refused = client.post(f"/api/v1/survey-uploads/{upload_id}/review", decision)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "own_upload"
        assert SurveyUpload.objects.get(pk=upload_id).status == "validated"


def test_a_passing_upload_is_accepted_without_override(surveyor, reviewer, line):
    markers = list(line.markers.order_by("sequence")[:2])
    upload_id = upload(surveyor, "m.csv", moved_markers_csv(markers, 1)).json()["id"]
    assert SurveyUpload.objects.get(pk=upload_id).report["passed"] is True
    accepted = reviewer.post(f"/api/v1/survey-uploads/{upload_id}/review", {"decision": "accept"})
    assert accepted.status_code == 200 and accepted.json()["accepted_despite_failure"] is False


def test_a_geopackage_with_an_attribute_table_is_accepted(surveyor):
    response = upload(surveyor, "field.gpkg", (CORPUS / "attribute_table.gpkg").read_bytes())
    assert response.status_code == 201, response.content
    assert response.json()["report"]["markers"] == 1


def test_original_file_is_written_on_commit_not_private_and_never_orphaned(
    surveyor, line, media_root, django_capture_on_commit_callbacks, monkeypatch
):
    data = gpx_of(offset_track(line, 10))
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(surveyor, "walk.gpx", data).json()
    files = [p for p in media_root.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == data
    assert SurveyUpload.objects.get(pk=body["id"]).file.path == str(files[0])
    assert files[0].stat().st_mode & 0o777 == 0o640
    for directory in files[0].relative_to(media_root).parents:
        if directory != directory.parent:
            assert (media_root / directory).stat().st_mode & 0o777 == 0o750

    # A failure inside the transaction, after the file was parsed and named: no row, no file.
    def broken(**_):
        raise RuntimeError("validation failed halfway")

    monkeypatch.setattr(services, "survey_upload_validate", broken)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        services.survey_upload_create(
            user=User.objects.get(username="surveyor"),
            line_code=LINE,
            file=SimpleUploadedFile("other.gpx", gpx_of(offset_track(line, 12))),
        )
    assert callbacks == [] and SurveyUpload.objects.count() == 1
    assert [p for p in media_root.rglob("*") if p.is_file()] == files


def test_two_identical_uploads_at_the_same_moment_answer_201_and_409(line, media_root, monkeypatch):
    """Two requests in two threads, each with its own database connection and transaction: both
    pass the duplicate check before either writes (a barrier after parsing), so the second insert
    meets the unique checksum of the first. Rows they commit are removed at the end."""
    team = line.teams.first()
    data = gpx_of(offset_track(line, 11))
    parse, barrier = services.survey_file_parse, threading.Barrier(2, timeout=30)

    def parse_then_wait(**kwargs):
        parsed = parse(**kwargs)
        barrier.wait()
        return parsed

    monkeypatch.setattr(services, "survey_file_parse", parse_then_wait)

    def in_own_connection(work, results, key):
        try:
            results[key] = work()
        finally:
            connection.close()

    def run_threads(works: dict) -> dict:
        results = {}
        threads = [threading.Thread(target=in_own_connection, args=(w, results, k)) for k, w in works.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return results

    def create_user():
        user = User.objects.create_user("racer", password="unused-in-tests")
        user.groups.add(Group.objects.get(name=SURVEYOR))
        team.members.add(user)
        return user

    user = run_threads({"user": create_user})["user"]
    try:

        def request(name):
            client = APIClient()
            client.force_authenticate(user)
            response = upload(client, name, data)
            return response.status_code, response.json()

        answers = run_threads({"a": lambda: request("a.gpx"), "b": lambda: request("b.gpx")})
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [201, 409], answers
        created = next(body for status, body in answers.values() if status == 201)
        conflict = next(body for status, body in answers.values() if status == 409)
        assert conflict["error"]["code"] == "duplicate_upload"
        assert conflict["error"]["details"]["first_upload"] == created["id"]  # same team: it may see it
        files = [p for p in media_root.rglob("*") if p.is_file()]
        assert len(files) == 1 and files[0].read_bytes() == data
    finally:

        def clean_up():
            SurveyUpload.objects.filter(uploaded_by=user).delete()
            SurveyUpload.history.filter(uploaded_by_id=user.pk).delete()
            User.objects.filter(pk=user.pk).delete()

        run_threads({"clean": clean_up})
