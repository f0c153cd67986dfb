from django.db import migrations, models

from gis_portal.core.changes import TRIGGER_FUNCTION


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="TableChange",
            fields=[
                ("table", models.CharField(max_length=63, primary_key=True, serialize=False)),
                ("changed_at", models.DateTimeField()),
            ],
            options={"db_table": "core_table_change"},
        ),
        migrations.RunSQL(TRIGGER_FUNCTION, reverse_sql="DROP FUNCTION IF EXISTS core_table_changed();"),
    ]
