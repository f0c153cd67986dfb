"""Benchmark of /api/v1/locate: p50/p95 latency of 1,000 random calls over HTTP against gunicorn,
and in the same run the PostGIS selector in-process and two naive baselines: a Python loop testing
every district polygon with shapely, then every township of that district, then the nearest
village by a loop over the township's villages,
  - "in memory": all geometries loaded once into the process (every worker holds a copy and does
    not see edits), and
  - "stateless": the geometries read from the database on each call, as a service without
    spatial SQL but with the service's stateless design would have to.

Dated locate (``date=``, the divisions in force that day, through the history's area spans) runs
next to undated in the same server, alternating call by call; the goal is dated p95 at most 1.2x
undated.

Run after `make run` has set up the database:  .venv/bin/python bench/locate.py [--calls 1000]
"""

import argparse
import datetime
import os
import statistics
import time

from common import django_setup, gunicorn, p95, percentiles

django_setup()

import shapely  # noqa: E402

from boundaries.models import Division  # noqa: E402
from boundaries.selectors import division_locate  # noqa: E402
from gis_portal.core import sql  # noqa: E402

RANDOM_POINTS_SQL = sql.compose(
    "SELECT ST_X(g) AS lon, ST_Y(g) AS lat FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, %(count)s, 42))).geom AS g"
    " FROM {division} WHERE level = 'municipality') p",
    division=Division,
)


def random_points(count: int) -> list[tuple[float, float]]:
    """Points uniformly inside the municipality (PostGIS, seeded), so every call does full work."""
    return [(point["lon"], point["lat"]) for point in sql.rows(RANDOM_POINTS_SQL, {"count": count})]


DATED = "2020-01-01"  # between the 2019 and 2020 lists: re-coded towns answer under their old codes


def bench_http(points, *, workers: int) -> tuple[list[float], list[float]]:
    """Undated and dated calls alternating, so both meet the same server state."""
    undated, dated = [], []
    with gunicorn(workers=workers) as get:
        for lon, lat in points[:20]:  # warm up every worker's connection
            get(f"/api/v1/locate?lon={lon}&lat={lat}")
            get(f"/api/v1/locate?lon={lon}&lat={lat}&date={DATED}")
        for lon, lat in points:
            undated.append(get(f"/api/v1/locate?lon={lon:.6f}&lat={lat:.6f}")[1])
            dated.append(get(f"/api/v1/locate?lon={lon:.6f}&lat={lat:.6f}&date={DATED}")[1])
    return undated, dated


def bench_selector(points) -> tuple[list[float], list[float]]:
    """The selector undated and dated, alternating call by call like the HTTP run."""
    on = datetime.date.fromisoformat(DATED)
    undated, dated = [], []
    for lon, lat in points:
        for day, samples in ((None, undated), (on, dated)):
            start = time.perf_counter()
            division_locate(lon=lon, lat=lat, on=day)
            samples.append(time.perf_counter() - start)
    return undated, dated


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
    http_samples, http_dated = bench_http(points, workers=args.workers)
    selector_samples, selector_dated = bench_selector(points)
    naive_samples, answered = bench_naive(points)
    stateless_samples = bench_naive_stateless(points[: max(1, len(points) // 10)])
    print(f"  HTTP /api/v1/locate (gunicorn, {args.workers} workers):  {percentiles(http_samples)}")
    print(f"  HTTP /api/v1/locate?date={DATED}:          {percentiles(http_dated)}")
    print(f"  PostGIS selector, in-process:                 {percentiles(selector_samples)}")
    print(f"  PostGIS selector, dated, in-process:          {percentiles(selector_dated)}")
    print(f"  baseline: naive shapely loop, in memory:      {percentiles(naive_samples)}  ({answered} answered)")
    print(f"  baseline: naive shapely loop, stateless:      {percentiles(stateless_samples)}  (100 calls)")
    selector = statistics.median(selector_samples)

    print(
        f"  dated / undated p95: HTTP {p95(http_dated) / p95(http_samples):.2f}x, "
        f"selector {p95(selector_dated) / p95(selector_samples):.2f}x (goal: at most 1.2x)"
    )
    print(
        f"  median ratios: stateless naive / selector = {statistics.median(stateless_samples) / selector:.0f}x; "
        f"in-memory naive / selector = {statistics.median(naive_samples) / selector:.2f}x"
    )


if __name__ == "__main__":
    main()
