"""The worker: procrastinate's, on the jobs queue, with heartbeats, plus a loop that sends the jobs
of a worker that stopped beating (killed, its machine gone) back to the queue. Settings:
JOBS_HEARTBEAT_SECONDS (how often a worker says it is alive), JOBS_STALLED_SECONDS (how long
without a heartbeat before its running jobs are retried; longer than a heartbeat or two)."""

import asyncio
import logging

from django.conf import settings
from procrastinate.contrib.django import app

from gis_portal.jobs.services import QUEUE

logger = logging.getLogger(__name__)


async def retry_stalled_jobs() -> int:
    """Send back to the queue the running jobs whose worker has not beaten for too long."""
    stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS)
    for job in stalled:
        logger.warning("job %s (%s): its worker stopped beating; retried", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return len(stalled)


async def _retry_stalled_forever() -> None:
    while True:
        try:
            await retry_stalled_jobs()
        except Exception:  # the database may be away for a while: try again next round
            logger.exception("retrying stalled jobs failed")
        await asyncio.sleep(settings.JOBS_STALLED_SECONDS / 2)


async def run_worker(*, name: str | None = None, concurrency: int = 1) -> None:
    async with app.open_async():
        retrying = asyncio.create_task(_retry_stalled_forever())
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                name=name,
                concurrency=concurrency,
                update_heartbeat_interval=settings.JOBS_HEARTBEAT_SECONDS,
                stalled_worker_timeout=settings.JOBS_STALLED_SECONDS,
                delete_jobs="successful",
            )
        finally:
            retrying.cancel()


def worker_main(*, name: str | None = None, concurrency: int = 1) -> None:
    """Run a worker until SIGINT or SIGTERM (it finishes its running jobs first)."""
    with app.replace_connector(app.connector.get_worker_connector()):
        asyncio.run(run_worker(name=name, concurrency=concurrency))
