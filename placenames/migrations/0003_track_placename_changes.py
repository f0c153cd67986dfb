"""Record when the standard names and their variants change, for the place-name answers'
``Last-Modified`` (``gis_portal.core.changes``)."""

from django.db import migrations

from gis_portal.core.changes import track_changes


class Migration(migrations.Migration):
    dependencies = [("placenames", "0002_initials_index"), ("core", "0001_table_change")]

    operations = track_changes("placenames_placename", "placenames_placenamevariant")
