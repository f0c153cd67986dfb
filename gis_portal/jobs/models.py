from django.conf import settings
from django.db import models


class Job(models.Model):
    """One piece of long work someone asked for: what it is (``kind`` and ``params``), how far it
    got and what came of it. procrastinate's own row (``queue_job_id``) carries the running of it
    (locks, attempts, the worker); this one is what the pages and the API show, and the result is
    written to it once, in the transaction that finishes the job (see ``services.job_finish``)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=64)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    result_file = models.CharField(max_length=255, blank=True, help_text="the name of its file (JobFile)")
    error = models.TextField(blank=True)
    # A job whose work refused its input (a ServiceError) keeps the code and HTTP status the same
    # refusal answers in a request, so a client sees one answer whichever way the work ran.
    error_code = models.CharField(max_length=64, blank=True, help_text="the refusal's code, as the API's errors")
    error_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="the refusal's HTTP status")
    attempts = models.PositiveSmallIntegerField(default=0)
    queue_job_id = models.BigIntegerField(null=True, blank=True, help_text="procrastinate_jobs.id")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class JobFile(models.Model):
    """A job's result file (a PDF register, a report), kept in PostgreSQL with the job rather than
    on the disk of the worker that wrote it: any app server answers ``GET /api/v1/jobs/{id}/file``,
    and a backup of the database has it. Written whole by ``services.job_file_write``; a retry of the
    job replaces it."""

    job = models.OneToOneField(Job, on_delete=models.CASCADE, primary_key=True, related_name="file")
    name = models.CharField(max_length=255)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    written_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} (job {self.job_id}, {self.size} bytes)"
