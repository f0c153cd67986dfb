"""What the ground keeps in the database: when each tracked table last changed (``TableChange``),
written by a statement trigger (``gis_portal.core.changes``), so that read-only layers can answer
``Last-Modified`` and ``304`` to ``If-Modified-Since``, and answers kept in the shared cache are
keyed by the state of what they read."""

from django.db import models


class TableChange(models.Model):
    """The last time a statement wrote to a tracked table (insert, update, delete, truncate, COPY),
    kept by the ``core_table_changed`` trigger: an import through raw SQL counts as a save does."""

    table = models.CharField(max_length=63, primary_key=True)
    changed_at = models.DateTimeField()
    # Writing statements so far (``gis_portal.core.changes.tables_version``).
    version = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        db_table = "core_table_change"

    def __str__(self) -> str:
        return f"{self.table} {self.changed_at:%Y-%m-%d %H:%M:%S}"
