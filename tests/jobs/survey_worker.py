"""A job worker for the survey-upload kill test: the service's worker, whose upload job, once it has
written the upload's original file (the last step of its finishing transaction, the upload row
written but not committed), writes the file named by SURVEY_JOB_INSIDE and waits until the file
named by SURVEY_JOB_GATE exists, so that a test can SIGKILL it there."""

import os
import time
from pathlib import Path

import django

django.setup()

from boundaries.surveys import services  # noqa: E402
from gis_portal.jobs.worker import worker_main  # noqa: E402

_store_original = services._store_original


def _store_original_then_wait(**kwargs) -> str:
    stored = _store_original(**kwargs)
    Path(os.environ["SURVEY_JOB_INSIDE"]).write_text(stored)
    gate, deadline = Path(os.environ["SURVEY_JOB_GATE"]), time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return stored


services._store_original = _store_original_then_wait

if __name__ == "__main__":
    worker_main()
