from django.db import migrations, models

# The trigger function as this migration made it (0002 adds the version counter): a copy, so that
# a new database gets a function that matches the table as it is at this step.
TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION core_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_table_change ("table", changed_at) VALUES (TG_TABLE_NAME, clock_timestamp())
    ON CONFLICT ("table") DO UPDATE SET changed_at = greatest(core_table_change.changed_at, EXCLUDED.changed_at);
    RETURN NULL;
END $$;
"""


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
