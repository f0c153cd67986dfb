"""manage.py backup DIR: the database (pg_dump, custom format), the uploaded originals and a
manifest with checksums and row counts, written into a new directory."""

from pathlib import Path

from gis_portal.core.commands import ServiceCommand
from gis_portal.portal.backups import backup_create


class Command(ServiceCommand):
    help = "Back up the database and the uploaded originals into a new directory, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("target", type=Path, help="a new (or empty) directory")

    def run(self, *, target: Path, **options) -> str:
        manifest = backup_create(target=target)
        size, files, rows = manifest["dump"]["bytes"], len(manifest["media"]), sum(manifest["tables"].values())
        return f"backup in {target}: {size:,} bytes of dump, {files} files, {rows:,} rows"
