# Survey uploads move from the boundaries app to their own app (boundaries.surveys, label
# "surveys"). Only Django's state moves: the tables keep their names (db_table), so no row, file or
# history entry is touched. The content types are relabelled so that permissions (and the groups
# holding them) stay attached.

import django.contrib.gis.db.models.fields
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

MOVED = ["surveyupload", "historicalsurveyupload", "stagedfeature"]


def relabel_content_types(apps, schema_editor, *, old="boundaries", new="surveys"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue  # a fresh database: created by post_migrate of this app already
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def unrelabel_content_types(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="surveys", new="boundaries")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("boundaries", "0004_survey_uploads_to_own_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalSurveyUpload',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('uploaded_at', models.DateTimeField(blank=True, editable=False, verbose_name='uploaded at')),
                        ('file', models.TextField(max_length=100, verbose_name='original file')),
                        ('original_name', models.CharField(max_length=255, verbose_name='file name')),
                        ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='SHA-256')),
                        ('size_bytes', models.PositiveIntegerField(verbose_name='size (bytes)')),
                        ('file_format', models.CharField(max_length=16, verbose_name='format')),
                        ('crs', models.PositiveIntegerField(verbose_name='CRS (EPSG)')),
                        ('crs_source', models.CharField(help_text='file, form or format', max_length=8, verbose_name='CRS from')),
                        ('survey_date', models.DateField(verbose_name='survey date')),
                        ('tolerance_m', models.FloatField(verbose_name='tolerance (m)')),
                        ('status', models.CharField(choices=[('validated', 'awaiting review'), ('accepted', 'accepted'), ('returned', 'returned')], default='validated', max_length=16, verbose_name='status')),
                        ('reviewed_at', models.DateTimeField(blank=True, null=True, verbose_name='reviewed at')),
                        ('review_comment', models.TextField(blank=True, verbose_name='review comment')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('inspection', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='boundaries.inspection')),
                        ('line', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='boundaries.boundaryline')),
                        ('reviewed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='boundaries.surveyteam')),
                        ('uploaded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'boundaries_historicalsurveyupload',
                        'verbose_name': 'historical survey upload',
                        'verbose_name_plural': 'historical survey uploads',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='SurveyUpload',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uploaded_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded at')),
                        ('file', models.FileField(upload_to='survey_uploads/%Y/%m/', verbose_name='original file')),
                        ('original_name', models.CharField(max_length=255, verbose_name='file name')),
                        ('sha256', models.CharField(max_length=64, unique=True, verbose_name='SHA-256')),
                        ('size_bytes', models.PositiveIntegerField(verbose_name='size (bytes)')),
                        ('file_format', models.CharField(max_length=16, verbose_name='format')),
                        ('crs', models.PositiveIntegerField(verbose_name='CRS (EPSG)')),
                        ('crs_source', models.CharField(help_text='file, form or format', max_length=8, verbose_name='CRS from')),
                        ('survey_date', models.DateField(verbose_name='survey date')),
                        ('tolerance_m', models.FloatField(verbose_name='tolerance (m)')),
                        ('report', models.JSONField(default=dict, verbose_name='validation report')),
                        ('status', models.CharField(choices=[('validated', 'awaiting review'), ('accepted', 'accepted'), ('returned', 'returned')], default='validated', max_length=16, verbose_name='status')),
                        ('reviewed_at', models.DateTimeField(blank=True, null=True, verbose_name='reviewed at')),
                        ('review_comment', models.TextField(blank=True, verbose_name='review comment')),
                        ('inspection', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='survey_upload', to='boundaries.inspection')),
                        ('line', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='uploads', to='boundaries.boundaryline')),
                        ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reviewed_survey_uploads', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='uploads', to='boundaries.surveyteam')),
                        ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='survey_uploads', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'boundaries_surveyupload',
                        'verbose_name': 'survey upload',
                        'verbose_name_plural': 'survey uploads',
                        'ordering': ['-uploaded_at'],
                        'permissions': [('review_surveyupload', 'Can accept or return a survey upload')],
                    },
                ),
                migrations.CreateModel(
                    name='StagedFeature',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('index', models.PositiveIntegerField()),
                        ('kind', models.CharField(choices=[('track', 'track'), ('marker', 'marker')], max_length=8)),
                        ('number', models.CharField(blank=True, max_length=64, verbose_name='marker number')),
                        ('geom', django.contrib.gis.db.models.fields.GeometryField(srid=4326)),
                        ('attributes', models.JSONField(default=dict)),
                        ('inside_municipality', models.BooleanField(default=False)),
                        ('distance_m', models.FloatField(blank=True, null=True, verbose_name='distance to the line (m)')),
                        ('displacement_m', models.FloatField(blank=True, null=True, verbose_name='displacement (m)')),
                        ('marker', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='boundaries.marker')),
                        ('upload', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='features', to='surveys.surveyupload')),
                    ],
                    options={
                        'db_table': 'boundaries_stagedfeature',
                        'ordering': ['upload', 'index'],
                        'constraints': [models.UniqueConstraint(fields=('upload', 'index'), name='stagedfeature_upload_index')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, unrelabel_content_types),
    ]
