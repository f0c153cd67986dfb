"""Backup and restore: the session's database (Chongqing loaded) with an accepted survey upload is
backed up, restored into a new database, and found the same, counts and original file byte for
byte; a backup changed after the fact is refused.

pg_dump sees only committed rows, so the upload goes in through a connection of its own (committed)
and is deleted again at the end; the restored database is dropped.
"""

import hashlib
import uuid

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from psycopg2 import sql

pytestmark = pytest.mark.django_db
ORIGINAL = b"number,lon,lat,status\nM1,108.5,30.9,intact\n" + bytes(range(256))  # and every byte value
FILE_NAME = "survey_uploads/2026/11/feedfacefeedface-markers.csv"


def _connect(dbname: str | None = None):
    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=dbname or db["NAME"], user=db["USER"], password=db["PASSWORD"],
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
    )  # fmt: skip
    connection.autocommit = True
    return connection


@pytest.fixture
def committed_upload(settings, tmp_path):
    """An accepted upload of an existing line, committed, with its original file in MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    original = settings.MEDIA_ROOT / FILE_NAME
    original.parent.mkdir(parents=True)
    original.write_bytes(ORIGINAL)
    name = f"backup-{uuid.uuid4().hex[:8]}"
    connection = _connect()
    cursor = connection.cursor()
    cursor.execute(
        """
        WITH u AS (
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                   is_active, date_joined)
            VALUES ('!', false, %(name)s, '', '', '', false, true, now()) RETURNING id),
        t AS (INSERT INTO boundaries_surveyteam (name, is_synthetic) VALUES (%(name)s, false) RETURNING id),
        l AS (SELECT id FROM boundaries_boundaryline WHERE level = 'county' ORDER BY code LIMIT 1)
        INSERT INTO boundaries_surveyupload (line_id, team_id, uploaded_by_id, uploaded_at, file, original_name, sha256,
             size_bytes, file_format, crs, crs_source, survey_date, tolerance_m, tolerance_source, report, status,
             review_comment, accepted_despite_failure, override_reason)
        SELECT l.id, t.id, u.id, now(), %(file)s, 'markers.csv', %(sha)s, %(size)s, 'csv', 4326, 'form', '2026-11-01',
               5, 'bureau setting', '{"passed": true}', 'accepted', 'ok', false, ''
          FROM u, t, l RETURNING id
        """,
        {"name": name, "file": FILE_NAME, "sha": hashlib.sha256(ORIGINAL).hexdigest(), "size": len(ORIGINAL)},
    )
    upload_id = cursor.fetchone()[0]
    try:
        yield upload_id
    finally:
        cursor.execute("DELETE FROM boundaries_surveyupload WHERE id = %s", [upload_id])
        cursor.execute("DELETE FROM boundaries_surveyteam WHERE name = %s", [name])
        cursor.execute("DELETE FROM auth_user WHERE username = %s", [name])
        connection.close()


@pytest.fixture
def new_database():
    name = f"gis_portal_restore_{uuid.uuid4().hex[:8]}"
    yield name
    admin = _connect("postgres")
    admin.cursor().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def test_backup_restores_into_a_new_database_with_the_same_rows_and_files(committed_upload, new_database, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    restored_media = tmp_path / "restored-media"
    call_command("restore", str(backup), "--database", new_database, "--media", str(restored_media))

    other = _connect(new_database)
    cursor = other.cursor()
    cursor.execute("SELECT status, file, sha256 FROM boundaries_surveyupload WHERE id = %s", [committed_upload])
    status, file, sha = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM boundaries_division WHERE level = 'township'")
    townships = cursor.fetchone()[0]
    cursor.execute("SELECT postgis_lib_version()")
    other.close()
    assert status == "accepted" and townships == 1031
    assert (restored_media / file).read_bytes() == ORIGINAL and sha == hashlib.sha256(ORIGINAL).hexdigest()
    assert (restored_media / file).stat().st_mode & 0o777 == 0o640


def test_a_changed_backup_is_refused(committed_upload, new_database, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    copy = backup / "media" / FILE_NAME
    copy.write_bytes(copy.read_bytes().replace(b"M1", b"M2"))
    with pytest.raises(CommandError, match=f"changed since the backup: media/{FILE_NAME}"):
        call_command("restore", str(backup), "--database", new_database, "--media", str(tmp_path / "m"))
    admin = _connect("postgres")
    cursor = admin.cursor()
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [new_database])
    assert cursor.fetchone() is None  # refused before anything was created
    admin.close()
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(backup))
