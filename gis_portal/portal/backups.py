"""Backups of the whole service: the database as a PostgreSQL custom-format dump, the uploaded
originals beside it, and a manifest with checksums and row counts; and the restore into a new
database, which refuses a backup whose files do not match their checksums and checks the counts
it restored against the manifest.

A backup is a directory: ``database.dump``, ``media/`` (the originals under their stored names),
``manifest.json``. The dump is taken with ``pg_dump`` of the server's own major version (Debian's
postgresql-client, which scripts/setup.sh installs with the server).
"""

import datetime
import hashlib
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from psycopg2 import sql as pgsql

from gis_portal.core import sql
from gis_portal.core.errors import Conflict, InvalidData, InvalidParameter

logger = logging.getLogger(__name__)

# Tables counted in the manifest and checked after a restore: every model of the project's apps.
PROJECT_APPS = ("boundaries", "surveys", "placenames", "facilities")
CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env(database: dict) -> dict:
    env = {**os.environ, "PGHOST": database["HOST"] or "127.0.0.1", "PGPORT": str(database["PORT"] or 5432)}
    env["PGUSER"] = database["USER"]
    if database["PASSWORD"]:
        env["PGPASSWORD"] = database["PASSWORD"]
    return env


def _run(command: list[str], *, env: dict) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)  # noqa: S603 -- fixed tools
    if done.returncode != 0:
        raise InvalidData(f"{command[0]} failed: {done.stderr.strip()[-500:]}")


def table_counts() -> dict[str, int]:
    """Rows in every table of the project's apps (the models' tables)."""
    counts = {}
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            query = sql.compose("SELECT count(*) AS n FROM {table}", table=model)
            counts[model._meta.db_table] = sql.row(query)["n"]
    return counts


def _media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def backup_create(*, target: Path) -> dict:
    """Write a backup into ``target`` (a new or empty directory); return its manifest."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise Conflict(f"{target} is not empty: a backup goes into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    database = settings.DATABASES["default"]
    dump = target / "database.dump"
    # spatial_ref_sys belongs to PostGIS (its rows come with the extension; the service adds none).
    _run(["pg_dump", "--format=custom", "--no-owner", "--exclude-table-data=public.spatial_ref_sys",
          "--file", str(dump), database["NAME"]], env=_pg_env(database))  # fmt: skip
    media_root = Path(settings.MEDIA_ROOT)
    files = []
    for source in _media_files(media_root):
        relative = source.relative_to(media_root)
        copy = target / "media" / relative
        copy.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        shutil.copy2(source, copy)
        files.append({"path": str(relative), "bytes": copy.stat().st_size, "sha256": _sha256(copy)})
    recorder = MigrationRecorder(connection)
    manifest = {
        "format": 1,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": database["NAME"],
        "server_version": connection.pg_version,
        "migrations": sorted(f"{m.app}.{m.name}" for m in recorder.migration_qs),
        "dump": {"path": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        "media": files,
        "tables": table_counts(),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    logger.info("backup of %s to %s: %d bytes of dump, %d files", database["NAME"], target, manifest["dump"]["bytes"],
                len(files))  # fmt: skip
    return manifest


def backup_verify(*, source: Path) -> dict:
    """The manifest of a backup whose dump and files all match their checksums; InvalidData if not."""
    source = Path(source)
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidData(f"{source}: no readable manifest.json ({exc})") from exc
    entries = [(manifest["dump"]["path"], manifest["dump"]["sha256"])]
    entries += [(str(Path("media") / f["path"]), f["sha256"]) for f in manifest["media"]]
    bad = []
    for relative, expected in entries:
        path = source / relative
        if ".." in Path(relative).parts or not path.is_file() or _sha256(path) != expected:
            bad.append(relative)
    if bad:
        raise InvalidData(f"{source}: {len(bad)} file(s) missing or changed since the backup: {', '.join(bad[:5])}")
    return manifest


def backup_restore(*, source: Path, database: str, media_root: Path) -> dict:
    """Restore a verified backup into a new database ``database`` (created here, with the
    extensions from template1) and its originals under ``media_root``; check every table's row
    count against the manifest. Returns the counts restored."""
    manifest = backup_verify(source=source)
    if not database.replace("_", "").isalnum():
        raise InvalidParameter("database: letters, digits and underscores")
    current = settings.DATABASES["default"]
    # CREATE DATABASE runs outside any transaction: a connection of its own, to the server's
    # maintenance database.
    maintenance = _connect(dbname="postgres")
    try:
        cursor = maintenance.cursor()
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cursor.fetchone():
            raise Conflict(f"the database {database} exists: a restore goes into a new database")
        cursor.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE template1").format(pgsql.Identifier(database)))
    finally:
        maintenance.close()
    env = _pg_env(current)
    # --no-comments: the dump's COMMENT ON EXTENSION needs the extension's owner, which we are not.
    _run(["pg_restore", "--no-owner", "--no-comments", "--exit-on-error", "--dbname", database,
          str(Path(source) / manifest["dump"]["path"])], env=env)  # fmt: skip
    for entry in manifest["media"]:
        target = Path(media_root) / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        shutil.copy2(Path(source) / "media" / entry["path"], target)
        os.chmod(target, 0o640)
    restored = _counts_in(database=database, tables=list(manifest["tables"]))
    differ = {t: (n, restored.get(t)) for t, n in manifest["tables"].items() if restored.get(t) != n}
    if differ:
        raise InvalidData(f"restored counts differ from the backup's: {differ}")
    logger.info("restored %s into %s: %d tables, %d files", source, database, len(restored), len(manifest["media"]))
    return restored


def _connect(*, dbname: str):
    """An autocommit connection with the service's credentials to another database of the server."""
    current = settings.DATABASES["default"]
    other = psycopg2.connect(
        dbname=dbname, user=current["USER"], password=current["PASSWORD"],
        host=current["HOST"] or "127.0.0.1", port=current["PORT"] or 5432,
    )  # fmt: skip
    other.autocommit = True
    return other


def _counts_in(*, database: str, tables: list[str]) -> dict[str, int]:
    other = _connect(dbname=database)
    try:
        cursor = other.cursor()
        counts = {}
        for table in tables:
            cursor.execute(pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
        return counts
    finally:
        other.close()
