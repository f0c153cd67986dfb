"""GET /api/v1/jobs/{id}: a job's status, progress and result, for its owner or staff."""

import io

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_portal.core.api import ErrorSerializer
from gis_portal.core.errors import NotFound
from gis_portal.jobs.models import Job, JobFile
from gis_portal.jobs.selectors import job_get


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=Job.Status.choices)
    progress = serializers.IntegerField(help_text="0 to 100")
    message = serializers.CharField(help_text="what the job is doing now")
    result = serializers.JSONField(allow_null=True, help_text="the job's JSON result, once it succeeded")
    result_url = serializers.CharField(allow_null=True, help_text="the job's file, once it succeeded (if it made one)")
    error = serializers.CharField(help_text="why it failed")
    error_code = serializers.CharField(help_text="a refused input: the code a request doing the same work answers")
    error_status = serializers.IntegerField(
        allow_null=True, help_text="a refused input: the HTTP status a request doing the same work answers"
    )
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def job_body(job: Job) -> dict:
    done = job.status == Job.Status.SUCCEEDED
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "result": job.result if done else None,
        "result_url": reverse("job-file", args=[job.pk]) if done and job.result_file else None,
        "error": job.error,
        "error_code": job.error_code,
        "error_status": job.error_status,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def job_accepted(job: Job) -> Response:
    """202 Accepted with the job's URL (Location) and its state: what an API that starts a job answers."""
    url = reverse("job-detail", args=[job.pk])
    return Response({**JobSerializer(job_body(job)).data, "url": url}, status=202, headers={"Location": url})


class JobDetailView(APIView):
    @extend_schema(
        summary="A job: status, progress and result (its owner or staff)",
        responses={200: JobSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, job_id: int) -> Response:
        return Response(JobSerializer(job_body(job_get(job_id=job_id, user=request.user))).data)


class JobFileView(APIView):
    @extend_schema(
        summary="A job's result file (its owner or staff)",
        responses={(200, "application/octet-stream"): bytes, 404: ErrorSerializer},
    )
    def get(self, request: Request, job_id: int) -> FileResponse:
        job = job_get(job_id=job_id, user=request.user)
        kept = JobFile.objects.filter(job=job).first() if job.result_file else None
        if job.status != Job.Status.SUCCEEDED or kept is None:
            raise NotFound(f"job {job_id} has no file")
        return FileResponse(io.BytesIO(kept.content), as_attachment=True, filename=kept.name)
