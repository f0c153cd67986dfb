"""Survey uploads through the API: who may do what, the hostile corpus (4xx, nothing written, the
server still answering), duplicates, deviation and displacement in metres against a real county
line, and a reviewer's acceptance changing the official record with its history kept."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from pyproj import Geod
from rest_framework.test import APIClient

from boundaries.models import BoundaryLine, Inspection, Marker, SurveyTeam
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


def upload(client: APIClient, name: str, data: bytes, **fields):
    return client.post(
        "/api/v1/survey-uploads", {"file": SimpleUploadedFile(name, data), "line": LINE, **fields}, format="multipart"
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


def test_track_offset_by_10_m_reports_10_m(surveyor, line):
    track = offset_track(line, 10)
    response = upload(surveyor, "walk.gpx", gpx_of(track), tolerance_m=15)
    assert response.status_code == 201, response.content
    body = response.json()
    deviation = body["report"]["track_deviation"]
    assert deviation["points"] == len(track)
    assert deviation["mean_m"] == pytest.approx(10, abs=1)
    assert deviation["share_within"] > 0.95
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
    response = upload(surveyor, "markers.csv", data, tolerance_m=5)
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
    assert surveyor.post(f"/api/v1/survey-uploads/{upload_id}/review", {"decision": "accept"}).status_code == 403
    accepted = reviewer.post(f"/api/v1/survey-uploads/{upload_id}/review", {"decision": "accept", "comment": "ok"})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    inspection = Inspection.objects.get(survey_upload__pk=upload_id)
    assert inspection.result == "problem" and inspection.marker_checks.count() == 3
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
