"""Benchmark of /api/v1/locate: p50/p95 latency of 1,000 random calls over HTTP against gunicorn,
and in the same run the PostGIS selector in-process and two naive baselines: a Python loop testing
every district polygon with shapely, then every township of that district, then the nearest
village by a loop over the township's villages,
  - "in memory": all geometries loaded once into the process (every worker holds a copy and does
    not see edits), and
  - "stateless": the geometries read from the database on each call, as a service without
    spatial SQL but with the service's stateless design would have to.

Run after `make run` has set up the database:  .venv/bin/python bench/locate.py [--calls 1000]
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_portal.settings")

import django  # noqa: E402

django.setup()

import shapely  # noqa: E402
from django.db import connection  # noqa: E402

from boundaries.models import Division  # noqa: E402
from boundaries.selectors import division_locate  # noqa: E402


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    p50 = statistics.median(ms)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   mean {statistics.fmean(ms):8.2f} ms"


def random_points(count: int, seed: float = 0.42) -> list[tuple[float, float]]:
    """Points uniformly inside the municipality (PostGIS, seeded), so every call does full work."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, %s, 42))).geom AS g "
            "FROM boundaries_division WHERE level = 'municipality') p",
            [count],
        )
        return cursor.fetchall()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_http(points, *, workers: int) -> list[float]:
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "gis_portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for lon, lat in points[:20]:  # warm up every worker's connection
            client.request("GET", f"/api/v1/locate?lon={lon}&lat={lat}")
            client.getresponse().read()
        samples = []
        for lon, lat in points:
            start = time.perf_counter()
            client.request("GET", f"/api/v1/locate?lon={lon:.6f}&lat={lat:.6f}")
            response = client.getresponse()
            body = response.read()
            samples.append(time.perf_counter() - start)
            if response.status != 200:
                raise SystemExit(f"locate({lon}, {lat}) answered {response.status}: {body[:200]!r}")
        json.loads(body)
        return samples
    finally:
        server.terminate()
        server.wait()


def bench_selector(points) -> list[float]:
    samples = []
    for lon, lat in points:
        start = time.perf_counter()
        division_locate(lon=lon, lat=lat)
        samples.append(time.perf_counter() - start)
    return samples


def bench_naive(points) -> tuple[list[float], int]:
    """The baseline: plain Python loops over shapely geometries loaded once into memory."""
    districts = [(d.id, d.name, shapely.from_wkb(bytes(d.geom.wkb))) for d in Division.objects.filter(level="district")]
    townships = {}
    for t in Division.objects.filter(level="township"):
        townships.setdefault(t.parent_id, []).append((t.id, t.name, shapely.from_wkb(bytes(t.geom.wkb))))
    villages = {}
    for v in Division.objects.filter(level="village").only("id", "name", "parent_id", "point"):
        villages.setdefault(v.parent_id, []).append((v.name, v.point.x, v.point.y))
    samples, agree = [], 0
    for lon, lat in points:
        start = time.perf_counter()
        point = shapely.Point(lon, lat)
        district = next((d for d in districts if d[2].covers(point)), None)
        township = next((t for t in townships.get(district[0], []) if t[2].covers(point)), None) if district else None
        village = None
        if township:
            village = min(villages.get(township[0], []), key=lambda v: (v[1] - lon) ** 2 + (v[2] - lat) ** 2)
        samples.append(time.perf_counter() - start)
        agree += bool(village)
    return samples, agree


def bench_naive_stateless(points) -> list[float]:
    samples = []
    for lon, lat in points:
        start = time.perf_counter()
        point = shapely.Point(lon, lat)
        district = next(
            (
                d
                for d in Division.objects.filter(level="district").only("id", "geom")
                if d.geom and shapely.from_wkb(bytes(d.geom.wkb)).covers(point)
            ),
            None,
        )
        if district:
            township = next(
                (
                    t
                    for t in Division.objects.filter(parent=district).only("id", "geom")
                    if shapely.from_wkb(bytes(t.geom.wkb)).covers(point)
                ),
                None,
            )
            if township:
                min(
                    Division.objects.filter(parent=township).only("id", "point"),
                    key=lambda v: (v.point.x - lon) ** 2 + (v.point.y - lat) ** 2,
                )
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if Division.objects.filter(level="district", geom__isnull=False).count() != 38:
        raise SystemExit("the database has no Chongqing data: run `make run` (or scripts/setup.sh run) first")
    points = random_points(args.calls)
    print(f"locate benchmark: {len(points)} random points inside Chongqing, {os.cpu_count()} CPUs")
    http_samples = bench_http(points, workers=args.workers)
    selector_samples = bench_selector(points)
    naive_samples, answered = bench_naive(points)
    stateless_samples = bench_naive_stateless(points[: max(1, len(points) // 10)])
    print(f"  HTTP /api/v1/locate (gunicorn, {args.workers} workers):  {percentiles(http_samples)}")
    print(f"  PostGIS selector, in-process:                 {percentiles(selector_samples)}")
    print(f"  baseline: naive shapely loop, in memory:      {percentiles(naive_samples)}  ({answered} answered)")
    print(f"  baseline: naive shapely loop, stateless:      {percentiles(stateless_samples)}  (100 calls)")
    selector = statistics.median(selector_samples)
    print(
        f"  median ratios: stateless naive / selector = {statistics.median(stateless_samples) / selector:.0f}x; "
        f"in-memory naive / selector = {statistics.median(naive_samples) / selector:.2f}x"
    )


if __name__ == "__main__":
    main()
