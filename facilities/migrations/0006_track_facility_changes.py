"""Record when the facilities change, for the list's ``Last-Modified`` (``gis_portal.core.changes``)."""

from django.db import migrations

from gis_portal.core.changes import track_changes


class Migration(migrations.Migration):
    dependencies = [("facilities", "0005_coverage_scenario"), ("core", "0001_table_change")]

    operations = track_changes("facilities_facility")
