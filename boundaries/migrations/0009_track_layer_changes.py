"""Record when the divisions, clusters, lines, markers, inspections and dated versions change, for
the lists' ``Last-Modified`` (``gis_portal.core.changes``)."""

from django.db import migrations

from gis_portal.core.changes import track_changes


class Migration(migrations.Migration):
    dependencies = [("boundaries", "0008_division_proposals"), ("core", "0001_table_change")]

    operations = track_changes(
        "boundaries_cluster",
        "boundaries_division",
        "boundaries_boundaryline",
        "boundaries_marker",
        "boundaries_inspection",
        "boundaries_divisionversion",
        "boundaries_divisionarea",
    )
