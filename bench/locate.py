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

Then the batch: a CSV of 100,000 random points (id, x, y) through POST /api/v1/locate/batch end to
end (upload, locate, the located CSV back), against a geopandas baseline in the same run that reads
the same CSV and answers the same columns: ``sjoin`` with the township polygons (in memory, loaded
before the clock starts), their districts and clusters joined, the nearest village (``sjoin_nearest``
on all villages, in degrees as the service's order; kept when it is in the point's township, a
shortcut in the baseline's favour), written back as CSV.

Run after `make run` has set up the database:  .venv/bin/python bench/locate.py [--calls 1000] [--batch 100000]
"""

import argparse
import datetime
import io
import os
import statistics
import tempfile
import time
import uuid
import warnings

from common import django_setup, gunicorn, p95, percentiles

django_setup()

import geopandas  # noqa: E402
import pandas  # noqa: E402
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


def batch_csv(points) -> bytes:
    return ("id,x,y\n" + "".join(f"p{i},{x:.7f},{y:.7f}\n" for i, (x, y) in enumerate(points))).encode()


def bench_batch_http(body: bytes, *, workers: int, repeat: int) -> tuple[list[float], int]:
    boundary = uuid.uuid4().hex
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="datum"\r\n\r\nWGS84\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="points.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    samples, rows = [], 0
    with gunicorn(workers=workers) as request:
        request("/api/v1/locate?lon=106.5&lat=29.5")  # warm up
        for _ in range(repeat):
            answer, seconds = request("/api/v1/locate/batch", method="POST", body=form, headers=headers)
            samples.append(seconds)
            rows = answer.count(b"\n") - 1
    return samples, rows


def batch_baseline_frames():
    """The baseline's layers, loaded once before its clock starts: townships (polygons) with their
    district and cluster, and the villages (points)."""
    warnings.filterwarnings("ignore", message="pandas only supports SQLAlchemy")  # a psycopg2 connection is fine
    townships = geopandas.GeoDataFrame.from_postgis(
        """SELECT t.code AS township_code, t.name AS township_name, d.code AS district_code, d.name AS district_name,
                  c.slug AS cluster_code, c.name AS cluster_name, t.id AS township_id, t.geom
             FROM boundaries_division t JOIN boundaries_division d ON d.id = t.parent_id
             LEFT JOIN boundaries_cluster c ON c.slug = d.cluster_id WHERE t.level = 'township'""",
        _engine(),
        geom_col="geom",
    )
    villages = geopandas.GeoDataFrame.from_postgis(
        "SELECT code AS village_code, name AS village_name, parent_id AS township_id, point"
        " FROM boundaries_division WHERE level = 'village' AND point IS NOT NULL",
        _engine(),
        geom_col="point",
    )
    return townships, villages


def _engine():
    from django.db import connection

    connection.ensure_connection()
    return connection.connection


def batch_baseline(path: str, townships, villages) -> int:
    warnings.filterwarnings("ignore", message="Geometry is in a geographic CRS")  # degrees, as the service orders
    frame = pandas.read_csv(path, dtype={"id": str})
    points = geopandas.GeoDataFrame(frame, geometry=geopandas.points_from_xy(frame["x"], frame["y"]), crs=4326)
    located = geopandas.sjoin(points, townships, how="left", predicate="within").drop(columns="index_right")
    located = located[~located.index.duplicated()]
    nearest = geopandas.sjoin_nearest(located[["township_id", "geometry"]], villages, how="left")
    nearest = nearest[nearest["township_id_left"] == nearest["township_id_right"]]
    nearest = nearest[~nearest.index.duplicated()]
    located = located.join(nearest[["village_code", "village_name"]])
    located["in_chongqing"] = located["township_code"].notna()
    out = io.StringIO()
    located.drop(columns=["geometry", "township_id"]).to_csv(out, index=False)
    return len(located)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100_000, help="points in the batch file (0: skip the batch)")
    parser.add_argument("--repeat", type=int, default=3)
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
    if args.batch:
        body = batch_csv(random_points(args.batch))
        http_s, rows = bench_batch_http(body, workers=args.workers, repeat=args.repeat)
        townships, villages = batch_baseline_frames()
        with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
            handle.write(body)
            handle.flush()
            baseline_s = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                baseline_rows = batch_baseline(handle.name, townships, villages)
                baseline_s.append(time.perf_counter() - start)
        service, baseline = statistics.median(http_s), statistics.median(baseline_s)
        print(f"  batch: {args.batch:,} points ({len(body) / 1e6:.1f} MB CSV), median of {args.repeat}")
        print(f"    HTTP POST /api/v1/locate/batch, end to end:     {service:6.2f} s  ({rows:,} rows back)")
        print(f"    baseline geopandas sjoin (reads the same CSV):   {baseline:6.2f} s  ({baseline_rows:,} rows)")
        ratio = service / baseline
        print(f"batch locate: {args.batch:,} points via API {service:.2f} s, service/geopandas {ratio:.2f}")


if __name__ == "__main__":
    main()
