"""What the benchmarks share: Django set-up, percentile summaries, and a gunicorn server on a free
local port with a keep-alive client. Benchmarks print figures; they are not tests."""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_portal.portal.settings")
    import django

    django.setup()


def p95(samples_s: list[float]) -> float:
    """95th percentile in milliseconds (nearest rank)."""
    ms = sorted(s * 1000 for s in samples_s)
    return ms[int(0.95 * (len(ms) - 1))]


def percentiles(samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return f"p50 {statistics.median(ms):8.2f} ms   p95 {p95(samples_s):8.2f} ms   mean {statistics.fmean(ms):8.2f} ms"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, workers: int, env: dict | None = None, log=None) -> Iterator[Callable[[str], tuple[bytes, float]]]:
    """Serve the portal (this environment's DATABASE_URL, or ``env``) with gunicorn; yield ``get(path)``
    (or ``get(path, method="POST", body=..., headers=...)``) that returns the body and the seconds the
    request took, and stops the run on a non-2xx answer. ``log``: a file for the server's log lines
    (one JSON line a request)."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "gis_portal.portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=os.environ if env is None else env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if log is None else log,
    )
    try:
        for _ in range(600):  # up to a minute: a loaded machine starts gunicorn slowly
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(path: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
            start = time.perf_counter()
            client.request(method, path, body=body, headers=headers or {})
            response = client.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - start
            if not 200 <= response.status < 300:
                raise SystemExit(f"{path} answered {response.status}: {body[:200]!r}")
            return body, elapsed

        yield get
    finally:
        server.terminate()
        server.wait()
