"""A job worker for the tests: the service's worker with the tests' probe job kind registered too."""

import django

django.setup()

from gis_portal.jobs.worker import worker_main  # noqa: E402
from tests.jobs import probe  # noqa: E402, F401  (registers the probe kind)

if __name__ == "__main__":
    worker_main()
