"""gunicorn settings for the portal (used by `make run`; production reads the same file).

Workers from the CPU count, each with a few threads, so that a cheap request (look-up, locate, a
tile) finds a free thread while a heavy one (an export, a report) runs; heavy requests are also
capped across all workers (gis_portal.core.throttles). Workers restart after a number of requests,
with jitter, so that memory cannot creep.

Two settings of the processes themselves, made here in the master before it forks (the workers
inherit them), both measured with bench/load.py:
- the threads of a worker take turns at the interpreter every millisecond instead of Python's
  default 5 ms: a cheap request in the same worker as a heavy one (a layer of 500 features being
  written) waits for the interpreter after each of its database and socket calls, up to the
  switch interval each time;
- glibc's allocator keeps at most two arenas (not eight per core, one for each thread that ever
  allocated) and gives large blocks back when they are freed (a fixed mmap threshold: by default
  glibc raises it after each large free, and the next large answers then stay in the heap): the
  workers' memory follows what they hold instead of the largest answers they ever wrote.
"""

import ctypes
import ctypes.util
import multiprocessing
import os
import sys

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

SWITCH_INTERVAL_S = 0.001
MALLOC_ARENA_MAX = 2
MALLOC_MMAP_THRESHOLD = 256 * 1024  # blocks from this size are mapped on their own and unmapped when freed


def _tune_malloc() -> None:
    """mallopt(3) on glibc; nothing elsewhere (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_mmap_threshold, m_arena_max = -3, -8  # <malloc.h>
    mallopt(m_arena_max, MALLOC_ARENA_MAX)
    mallopt(m_mmap_threshold, MALLOC_MMAP_THRESHOLD)


sys.setswitchinterval(SWITCH_INTERVAL_S)
_tune_malloc()
