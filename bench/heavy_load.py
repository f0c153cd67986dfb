"""Benchmark: does a handful of anonymous heavy requests hold the service? Latency of
/api/v1/locate (a cheap public request) idle, then while three anonymous clients loop over heavy
requests (the whole facility CSV export, a facility page asking for 20,000 features, the coverage
report with 20 suggested sites), against gunicorn as `make run` serves it (gunicorn.conf.py).

Two loaded runs: with the service's throttles as configured (heavy requests soon answer 429), and
with the heavy throttle lifted (THROTTLE_HEAVY_ANON=100000/minute), so that only the caps (page
size 2,000, streamed exports, the heavy-request bulkhead, the public statement timeout) stand
between the heavy clients and locate. Goal (security review, finding 5): locate p95 under load
within 5x its idle p95.

Run after `make run` has set up the database:  .venv/bin/python bench/heavy_load.py [--calls 300]
"""

import argparse
import http.client
import os
import random
import threading
import time
from collections import Counter

from common import django_setup, free_port, p95, percentiles

django_setup()

import subprocess  # noqa: E402

from common import ROOT  # noqa: E402

HEAVY = [
    "/api/v1/facilities?export=csv",
    "/api/v1/facilities?page_size=20000",
    "/coverage/report?category=elder_station&k=20",
]


def serve(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "gis_portal.portal.wsgi", "--config", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import socket

    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, port


def locate_samples(port: int, calls: int) -> list[float]:
    rng = random.Random(7)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples = []
    for _ in range(calls):
        lon, lat = rng.uniform(106.3, 107.0), rng.uniform(29.3, 29.9)  # the urban core: always inside
        start = time.perf_counter()
        conn.request("GET", f"/api/v1/locate?lon={lon:.5f}&lat={lat:.5f}")
        response = conn.getresponse()
        response.read()
        samples.append(time.perf_counter() - start)
        if response.status != 200:
            raise SystemExit(f"locate answered {response.status}")
    return samples


def heavy_client(port: int, path: str, stop: threading.Event, statuses: Counter) -> None:
    """One client with one heavy request at a time, back to back; told to wait (429, 503), it waits
    as Retry-After says (at most 5 s), as an HTTP client should."""
    while not stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            statuses[(path.split("?")[0], response.status)] += 1
            if response.status in (429, 503):
                stop.wait(min(float(response.getheader("Retry-After") or 1), 5.0))
        except OSError as exc:
            statuses[(path.split("?")[0], type(exc).__name__)] += 1
        finally:
            conn.close()


def run(label: str, env: dict, calls: int) -> tuple[float, float]:
    server, port = serve(env)
    try:
        locate_samples(port, 30)  # warm every worker
        idle = locate_samples(port, calls)
        stop, statuses = threading.Event(), Counter()
        clients = [threading.Thread(target=heavy_client, args=(port, path, stop, statuses)) for path in HEAVY]
        for client in clients:
            client.start()
        time.sleep(2)  # let the heavy requests get going
        loaded = locate_samples(port, calls)
        stop.set()
        for client in clients:
            client.join()
    finally:
        server.terminate()
        server.wait()
    print(f"\n{label}")
    print(f"  locate idle          {percentiles(idle)}")
    print(f"  locate, 3 heavy      {percentiles(loaded)}")
    print("  heavy answers        " + ", ".join(f"{p} {s}: {n}" for (p, s), n in sorted(statuses.items())))
    return p95(idle), p95(loaded)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    base = {**os.environ, "CACHE_KEY_PREFIX": f"bench-heavy-{os.getpid()}"}
    throttled = run(
        "throttles as configured", {**base, "CACHE_KEY_PREFIX": base["CACHE_KEY_PREFIX"] + "-a"}, args.calls
    )
    unthrottled = run(
        "heavy throttle lifted (caps, bulkhead and timeouts only)",
        {**base, "CACHE_KEY_PREFIX": base["CACHE_KEY_PREFIX"] + "-b", "THROTTLE_HEAVY_ANON": "100000/minute"},
        args.calls,
    )
    for label, (idle, loaded) in (("throttled", throttled), ("throttle lifted", unthrottled)):
        print(f"{label}: locate p95 idle {idle:.1f} ms, under 3 heavy clients {loaded:.1f} ms "
              f"({loaded / idle:.2f}x; goal at most 5x)")  # fmt: skip


if __name__ == "__main__":
    main()
