"""Survey uploads' long work as jobs (found by procrastinate's autodiscovery of ``tasks`` modules):
a file over SURVEY_UPLOAD_JOB_BYTES, queued by ``survey_upload_enqueue``, checked and parsed by the
services the synchronous upload uses, with the same limits, and written as an upload in the job's
finishing transaction (one upload per job: a retry of a finished job writes nothing)."""

from datetime import date

from django.contrib.auth import get_user_model
from django.urls import reverse

from boundaries.surveys.models import QueuedSurveyFile
from boundaries.surveys.parsing import UploadLimits
from boundaries.surveys.services import (
    SURVEY_UPLOAD_JOB,
    survey_upload_admit,
    survey_upload_check,
    survey_upload_queue_release,
    survey_upload_url,
    survey_upload_write,
)
from gis_portal.core.errors import Forbidden
from gis_portal.jobs.models import Job
from gis_portal.jobs.services import Outcome, Report, job_task


@job_task(SURVEY_UPLOAD_JOB, release=survey_upload_queue_release)
def survey_upload_job(params: dict, report: Report) -> Outcome:
    """Admit (the uploader may have left the team while the file waited), parse and validate the
    queued file; its result names the upload: ``{"upload", "url", "page", "passed"}``."""
    queued = QueuedSurveyFile.objects.filter(job_id=report.job_id).first()
    if queued is None:  # released only when the job ends, and an ended job is not run again
        raise RuntimeError(f"job {report.job_id} has no queued survey file")
    user = get_user_model().objects.filter(pk=params["user_id"], is_active=True).first()
    if user is None:
        raise Forbidden("the account that uploaded the file is no longer active")
    report(10, "checking")
    data, limits = bytes(queued.data), UploadLimits.from_settings()
    admission = survey_upload_admit(
        user=user,
        line_code=params["line_code"],
        name=queued.name,
        size=len(data),
        survey_date=date.fromisoformat(params["survey_date"]),
        limits=limits,
    )
    report(20, "parsing")
    checked = survey_upload_check(
        user=user,
        admission=admission,
        name=queued.name,
        data=data,
        crs=params["crs"],
        encoding=params["encoding"],
        limits=limits,
    )
    report(70, "validating")

    def commit(job: Job) -> dict:
        upload = survey_upload_write(checked=checked, job=job)
        return {
            "upload": upload.pk,
            "url": reverse("api-survey-upload-detail", args=[upload.pk]),
            "page": survey_upload_url(upload),
            "passed": upload.report["passed"],
        }

    return Outcome(commit=commit)
