"""A job kind for the tests only: its finishing transaction writes a side effect (a row in a table
of the test's own, no unique key, so a second write would show) and then, if told to, waits there
until a gate file exists, so that a test can kill the worker in the middle of the commit."""

import time
from pathlib import Path

from django.db import connection

from gis_portal.jobs.services import Outcome, Report, job_task

PROBE_JOB = "tests.probe"
EFFECTS_TABLE = "tests_job_probe_effect"


@job_task(PROBE_JOB)
def probe_job(params: dict, report: Report) -> Outcome:
    report(50, "working")

    def commit(job) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {EFFECTS_TABLE} (job_id) VALUES (%s)", [job.pk])
        if params.get("inside"):
            Path(params["inside"]).write_text(str(job.attempts))
        gate = params.get("gate")
        deadline = time.monotonic() + 60
        while gate and not Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    return Outcome(result={"answer": 42, "params": params}, commit=commit)
