"""Job files move from MEDIA_ROOT/jobs/<id>/ into the database (JobFile), so that any app server
serves them; the files of jobs already done are read in (and stay on disk: delete them by hand)."""

from pathlib import Path

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def job_files_read_in(apps, schema_editor):
    Job, JobFile = apps.get_model("jobs", "Job"), apps.get_model("jobs", "JobFile")
    for job in Job.objects.exclude(result_file=""):
        path = Path(settings.MEDIA_ROOT) / job.result_file
        if not path.is_file():
            continue
        content = path.read_bytes()
        JobFile.objects.create(job=job, name=path.name, content=content, size=len(content))
        job.result_file = path.name
        job.save(update_fields=["result_file"])


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0002_job_error_code_and_status'),
    ]

    operations = [
        migrations.CreateModel(
            name='JobFile',
            fields=[
                ('job', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='file', serialize=False, to='jobs.job')),
                ('name', models.CharField(max_length=255)),
                ('content', models.BinaryField()),
                ('size', models.PositiveIntegerField()),
                ('written_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.AlterField(
            model_name='job',
            name='result_file',
            field=models.CharField(blank=True, help_text='the name of its file (JobFile)', max_length=255),
        ),
        migrations.RunPython(job_files_read_in, migrations.RunPython.noop),
    ]
