"""Jobs are asked for, run and finished here (the one way to do each).

- ``job_task(kind)`` registers a function as the work of a kind of job: ``work(params, report)``
  computes and returns an ``Outcome``; it reports progress with ``report(percent, message)``
  (committed at once, so a page sees it) and writes nothing else: what it produces is written by
  ``job_finish``. A kind that holds an input of its own until it ends (a queued file) registers
  ``release(job)``, called in the transaction that ends the job, succeeded or failed.
- ``job_enqueue`` creates the Job row and procrastinate's job in the caller's transaction (both or
  neither).
- ``job_fail`` ends a job that failed: its reason, and for a refused input (a ``ServiceError``)
  that refusal's code and HTTP status, the ones a request would have been answered with.
- ``job_finish`` writes the outcome in one transaction keyed by the job id, under a row lock: the
  job's own row turns ``succeeded`` in the same commit as the outcome's side effects
  (``Outcome.commit``), and a job already ``succeeded`` is left as it is. A worker killed before
  that commit leaves nothing half-written; one killed after it leaves a finished job, which a
  retry does not write again.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from gis_portal.core.errors import InvalidParameter, ServiceError
from gis_portal.jobs.models import Job, JobFile

logger = logging.getLogger(__name__)

QUEUE = "jobs"


class Report:
    """What a job's work is handed: ``report(percent, message)`` commits its progress at once (a
    page polling the job sees it); ``report.job_id`` names the job (for ``job_file_write``)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def __call__(self, percent: float, message: str = "") -> None:
        Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(
            progress=max(0, min(100, round(percent))), message=message[:200]
        )


@dataclass
class Outcome:
    """What a job produced: ``result`` (JSON) and/or ``result_file`` (the name of the file written by
    ``job_file_write``, the job's own, so that a retry replaces it), and
    ``commit``, side effects written in the finishing transaction; what ``commit`` returns, unless
    None, is the result (for a result known only once written, such as the id of a row it made)."""

    result: Any = None
    result_file: str = ""
    commit: Callable[[Job], Any] | None = None


_WORK: dict[str, Callable[[dict, Report], Outcome]] = {}
_TASKS: dict[str, Any] = {}
_RELEASE: dict[str, Callable[[Job], None]] = {}


def job_task(kind: str, *, release: Callable[[Job], None] | None = None) -> Callable:
    """Register ``work(params, report) -> Outcome`` as the work of jobs of ``kind``; ``release(job)``,
    if given, frees what such a job holds (its queued input) in the transaction that ends it."""

    def register(work: Callable[[dict, Report], Outcome]) -> Callable[[dict, Report], Outcome]:
        if kind in _WORK:
            raise RuntimeError(f"job kind {kind} registered twice")
        _WORK[kind] = work
        if release is not None:
            _RELEASE[kind] = release

        @app.task(name=kind, queue=QUEUE)
        def run(job_id: int) -> None:
            job_run(job_id)

        _TASKS[kind] = run
        return work

    return register


def job_file_write(job_id: int, name: str, content: bytes) -> str:
    """Keep a job's file in the database (``JobFile``: any app server serves it, whichever worker
    wrote it), whole in one statement; a retry replaces it. Returns its name, for
    ``Outcome.result_file``."""
    JobFile.objects.update_or_create(job_id=job_id, defaults={"name": name, "content": content, "size": len(content)})
    return name


def job_enqueue(*, kind: str, params: dict, owner=None) -> Job:
    """A new job of ``kind``, queued: its row and procrastinate's, in one transaction."""
    if kind not in _TASKS:
        raise InvalidParameter(f"unknown job kind: {kind}")
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params, owner=owner if owner and owner.is_authenticated else None)
        job.queue_job_id = _TASKS[kind].defer(job_id=job.pk)
        job.save(update_fields=["queue_job_id"])
    logger.info("job %s queued: %s", job.pk, kind)
    return job


def _job_start(job_id: int) -> Job | None:
    """The job, marked running (one more attempt); None when it is already over."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return None
        job.status, job.attempts = Job.Status.RUNNING, job.attempts + 1
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
        return job


def job_finish(job_id: int, outcome: Outcome) -> bool:
    """Write ``outcome`` once: False (and nothing written) when the job had already succeeded."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status == Job.Status.SUCCEEDED:
            logger.info("job %s already finished: its result is kept", job_id)
            return False
        result = outcome.result
        if outcome.commit is not None:
            committed = outcome.commit(job)
            result = result if committed is None else committed
        if job.kind in _RELEASE:
            _RELEASE[job.kind](job)
        job.status, job.progress, job.message = Job.Status.SUCCEEDED, 100, ""
        job.result, job.result_file, job.error = result, outcome.result_file, ""
        job.error_code, job.error_status = "", None
        job.finished_at = timezone.now()
        job.save()
    logger.info("job %s succeeded", job_id)
    return True


def job_fail(job_id: int, error: str, *, code: str = "", status: int | None = None) -> None:
    """End a job as failed with ``error`` (and, for a refused input, the refusal's ``code`` and HTTP
    ``status``); a job that already succeeded is left as it is."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).first()
        if job is None:
            return
        if job.kind in _RELEASE:
            _RELEASE[job.kind](job)
        job.status, job.error, job.finished_at = Job.Status.FAILED, error[:4000], timezone.now()
        job.error_code, job.error_status = code[:64], status
        job.save(update_fields=["status", "error", "error_code", "error_status", "finished_at"])


def job_run(job_id: int) -> None:
    """Run a job in this worker (procrastinate calls it; so may a test)."""
    close_old_connections()
    try:
        job = _job_start(job_id)
        if job is None:
            return
        try:
            outcome = _WORK[job.kind](job.params, Report(job_id))
            job_finish(job_id, outcome)
        except ServiceError as exc:  # refused input (by the work or its commit): the job failed, nothing to retry
            job_fail(job_id, exc.message, code=exc.code, status=exc.status)
            return
        except Exception as exc:  # a bug or an outage: the owner is told that, the log has the traceback
            logger.exception("job %s (%s) failed", job_id, job.kind)
            job_fail(job_id, f"{type(exc).__name__}: the job failed; the worker's log has the details")
            raise
    finally:
        close_old_connections()
