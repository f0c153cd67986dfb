"""gunicorn settings for the portal (used by `make run`; production reads the same file).

Workers from the CPU count, each with a few threads, so that a cheap request (look-up, locate, a
tile) finds a free thread while a heavy one (an export, a report) runs; heavy requests are also
capped across all workers (gis_portal.core.throttles). Workers restart after a number of requests,
with jitter, so that memory cannot creep.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30  # the public statement timeout (10 s) and the signed-in one (25 s) end below it
graceful_timeout = 20
keepalive = 5
# The app is imported once in the master and forked: a worker restarted by max_requests answers at
# once instead of after a second of imports, while its share of requests waits (bench/load.py).
preload_app = True
max_requests = 2000
max_requests_jitter = 200
# No gunicorn access log: the portal logs one JSON line a request itself (gis_portal.core.logs).
accesslog = None
errorlog = "-"
