"""Reading jobs: one job for whoever may see it, and the queue's state for readiness."""

from django.conf import settings
from django.db import connection

from gis_portal.core.errors import NotFound
from gis_portal.jobs.models import Job

# clock_timestamp(), not now(): the time of the reading, not of the transaction's start.
QUEUE_STATE_SQL = """
SELECT (SELECT count(*) FROM jobs_job WHERE status = 'queued') AS waiting,
       (SELECT EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))
          FROM jobs_job WHERE status = 'queued') AS oldest_s,
       (SELECT count(*) FROM jobs_job WHERE status = 'running') AS running,
       (SELECT count(*) FROM procrastinate_workers
         WHERE last_heartbeat > clock_timestamp() - make_interval(secs => %s)) AS workers
"""


def job_get(*, job_id: int, user) -> Job:
    """The job, for its owner or staff; anyone else is told it does not exist."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not (user.is_staff or (user.is_authenticated and job.owner_id == user.pk)):
        raise NotFound(f"no job {job_id}")
    return job


def queue_state() -> dict:
    """Jobs waiting, the oldest one's wait (seconds), jobs running and workers seen within the
    stalled threshold (procrastinate's heartbeats)."""
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_STATE_SQL, [settings.JOBS_STALLED_SECONDS])
        waiting, oldest_s, running, workers = cursor.fetchone()
    return {
        "waiting": waiting,
        "oldest_waiting_s": round(float(oldest_s), 1) if oldest_s is not None else None,
        "running": running,
        "workers": workers,
    }
