# Survey uploads move to their own app (boundaries.surveys): this removes them from the boundaries
# app's state only; the tables stay as they are and the surveys app takes them over (its 0001).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("boundaries", "0003_survey_uploads"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="StagedFeature"),
                migrations.DeleteModel(name="HistoricalSurveyUpload"),
                migrations.DeleteModel(name="SurveyUpload"),
            ],
            database_operations=[],
        ),
    ]
