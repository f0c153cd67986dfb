"""Moving survey uploads to their own app loses nothing: a database migrated as it was before the
move (boundaries at 0003, uploads in the boundaries app), holding an accepted upload with its
staged features, its original file, its history and a group's permission, migrates to the new
layout with all of it intact.

The old database is a scratch database of its own, migrated with ``manage.py`` in a subprocess (the
session's test database is already at the new layout, so this test does not use it); rows go in with
plain SQL, as the old code left them.
"""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[3]
ORIGINAL = (
    b'<?xml version="1.0"?><gpx version="1.1" creator="test"><wpt lat="30.9" lon="108.5"><name>M1</name></wpt></gpx>'
)
FILE_NAME = "survey_uploads/2026/11/0123456789abcdef-walk.gpx"


def _connect(dbname: str):
    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=dbname, user=db["USER"], password=db["PASSWORD"], host=db["HOST"] or None, port=db["PORT"] or None
    )
    connection.autocommit = True
    return connection


def _manage(*args: str, database: str, media: Path) -> str:
    db = settings.DATABASES["default"]
    url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media)}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def old_database(tmp_path):
    name = f"gis_portal_migration_{uuid.uuid4().hex[:8]}"
    admin = _connect("postgres")
    admin.cursor().execute(sql.SQL("CREATE DATABASE {} TEMPLATE template1").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        admin.cursor().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _insert_accepted_upload(database: str) -> None:
    """An accepted upload as the code before the move wrote it: line, team, user, inspection, the
    upload with two staged features and two history rows, and a group holding the review permission."""
    statements = """
    INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                           date_joined)
         VALUES ('!', false, 'surveyor1', '', '', '', false, true, now());
    INSERT INTO auth_group (name) VALUES ('line office');
    INSERT INTO auth_group_permissions (group_id, permission_id)
         SELECT g.id, p.id FROM auth_group g, auth_permission p JOIN django_content_type c ON c.id = p.content_type_id
          WHERE g.name = 'line office' AND p.codename = 'review_surveyupload' AND c.app_label = 'boundaries';
    INSERT INTO boundaries_boundaryline (code, name, level, left_code, left_name, right_code, right_name, geom,
                                         length_m, is_synthetic, status, last_inspected)
         VALUES ('500101-500154', '万州区—开州区', 'county', '500101', '万州区', '500154', '开州区',
                 ST_GeomFromText('MULTILINESTRING((108.5 30.9, 108.6 31.0))', 4326), 14000, false, 'clear',
                 '2026-11-01');
    INSERT INTO boundaries_surveyteam (name, is_synthetic) VALUES ('一队', false);
    INSERT INTO boundaries_inspection (line_id, team_id, date, result, findings, is_synthetic)
         SELECT l.id, t.id, '2026-11-01', 'clear', 'ok [survey upload]', false
           FROM boundaries_boundaryline l, boundaries_surveyteam t;
    INSERT INTO boundaries_surveyupload (line_id, team_id, uploaded_by_id, uploaded_at, file, original_name, sha256,
                                         size_bytes, file_format, crs, crs_source, survey_date, tolerance_m, report,
                                         status, reviewed_by_id, reviewed_at, review_comment, inspection_id)
         SELECT l.id, t.id, u.id, now(), %(file)s, 'walk.gpx', %(sha)s, %(size)s, 'gpx', 4326, 'format',
                '2026-11-01', 5, '{"passed": true}', 'accepted', u.id, now(), 'ok', i.id
           FROM boundaries_boundaryline l, boundaries_surveyteam t, auth_user u, boundaries_inspection i;
    INSERT INTO boundaries_stagedfeature (upload_id, index, kind, number, geom, attributes, inside_municipality)
         SELECT id, n, 'marker', 'M' || n, ST_SetSRID(ST_MakePoint(108.5, 30.9 + n / 1000.0), 4326), '{}', true
           FROM boundaries_surveyupload, generate_series(1, 2) n;
    INSERT INTO boundaries_historicalsurveyupload (id, uploaded_at, file, original_name, sha256, size_bytes,
                                                   file_format, crs, crs_source, survey_date, tolerance_m, status,
                                                   review_comment, history_date, history_type, line_id)
         SELECT id, uploaded_at, file, original_name, sha256, size_bytes, file_format, crs, crs_source, survey_date,
                tolerance_m, s, '', now(), t, line_id
           FROM boundaries_surveyupload, (VALUES ('validated', '+'), ('accepted', '~')) h(s, t);
    """
    connection = _connect(database)
    connection.cursor().execute(
        statements, {"file": FILE_NAME, "sha": hashlib.sha256(ORIGINAL).hexdigest(), "size": len(ORIGINAL)}
    )
    connection.close()


READ_BACK = """
import hashlib, json
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from boundaries.surveys.models import SurveyUpload
MOVED = ["surveyupload", "historicalsurveyupload", "stagedfeature"]
upload = SurveyUpload.objects.get()
group = Group.objects.get(name="line office")
print(json.dumps({
    "status": upload.status,
    "line": upload.line.code,
    "inspection": upload.inspection.findings,
    "features": list(upload.features.order_by("index").values_list("number", flat=True)),
    "history": list(upload.history.order_by("history_date").values_list("status", flat=True)),
    "file_sha256": hashlib.sha256(upload.file.read()).hexdigest(),
    "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()),
    "old_labels": ContentType.objects.filter(app_label="boundaries", model__in=MOVED).count(),
}))
"""


# Every app as it was before the move: boundaries at 0003 (uploads still in it), the rest at their latest.
MIGRATE_TO_BEFORE = """
from django.core.management import call_command
call_command("migrate", "boundaries", "0003_survey_uploads", verbosity=0)
for label in ("contenttypes", "auth", "admin", "sessions", "authtoken", "axes", "placenames", "facilities"):
    call_command("migrate", label, verbosity=0)
"""


def test_an_accepted_upload_survives_the_move_to_its_own_app(old_database, tmp_path):
    _manage("shell", "-c", MIGRATE_TO_BEFORE, database=old_database, media=tmp_path)
    _insert_accepted_upload(old_database)
    original = tmp_path / FILE_NAME
    original.parent.mkdir(parents=True)
    original.write_bytes(ORIGINAL)

    _manage("migrate", "--noinput", database=old_database, media=tmp_path)

    found = json.loads(_manage("shell", "-c", READ_BACK, database=old_database, media=tmp_path).splitlines()[-1])
    assert found["status"] == "accepted" and found["line"] == "500101-500154"
    assert found["inspection"] == "ok [survey upload]"
    assert found["features"] == ["M1", "M2"]
    assert found["history"] == ["validated", "accepted"]
    assert found["file_sha256"] == hashlib.sha256(ORIGINAL).hexdigest()
    # The permission kept its group, under the new app's label; no content type is left behind.
    assert found["permissions"] == ["surveys.review_surveyupload"] and found["old_labels"] == 0
