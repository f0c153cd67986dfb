"""manage.py restore DIR --database NAME [--media DIR]: a verified backup into a new database and
the originals under the media directory; the row counts are checked against the manifest. Point
DATABASE_URL at the new database afterwards."""

from pathlib import Path

from django.conf import settings

from gis_portal.core.commands import ServiceCommand
from gis_portal.portal.backups import backup_restore


class Command(ServiceCommand):
    help = "Restore a backup (see manage.py backup) into a new database and the media directory."

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="the backup's directory")
        parser.add_argument("--database", required=True, help="name of the new database to create")
        parser.add_argument("--media", type=Path, default=None, help="where the originals go (default MEDIA_ROOT)")

    def run(self, *, source: Path, database: str, media: Path | None, **options) -> str:
        counts = backup_restore(source=source, database=database, media_root=media or Path(settings.MEDIA_ROOT))
        return f"restored into {database}: {len(counts)} tables, {sum(counts.values()):,} rows"
