import importlib

from django.db import migrations, models

from gis_portal.core.changes import TRIGGER_FUNCTION

# Going back puts the function of 0001 back (the column it no longer writes goes).
TRIGGER_BEFORE = importlib.import_module("gis_portal.core.migrations.0001_table_change").TRIGGER_FUNCTION


class Migration(migrations.Migration):
    dependencies = [("core", "0001_table_change")]

    operations = [
        migrations.AddField(
            model_name="tablechange",
            name="version",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.RunSQL(TRIGGER_FUNCTION, reverse_sql=TRIGGER_BEFORE),
    ]
