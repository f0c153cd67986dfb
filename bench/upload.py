"""Benchmark of survey-upload validation: a GPX track of 100,000 points along a real county line,
offset by 10 m, parsed (GDAL in the sandboxed child process, boundaries.surveys.sandbox) and
measured against the line in PostGIS (KNN over the line's segments in its Gauss-Krüger zone).
Prints time and peak memory (this process, and the child that read the file), the first parse
(which starts the forkserver, once per worker) apart from the next, and in the same run a
baseline: the same distances with shapely/pyproj in memory and no index (each point against the
whole line). Targets: parse + measure within 5 s, peak RSS within 500 MB.

Run after `make run` has loaded the data:  .venv/bin/python bench/upload.py [--points 100000]
"""

import argparse
import resource
import time
import tracemalloc

from common import django_setup

django_setup()

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.contrib.gis.geos import GEOSGeometry, MultiLineString  # noqa: E402
from django.db import connection  # noqa: E402
from pyproj import Transformer  # noqa: E402

from boundaries.models import BoundaryLine  # noqa: E402
from boundaries.surveys.parsing import UploadLimits, survey_file_parse  # noqa: E402
from boundaries.surveys.validation import track_deviation  # noqa: E402
from gis_portal.core.crs import gauss_kruger_srid  # noqa: E402

LINE = "500101-500235"  # 万州区—云阳县, 116 km


def track_points(line: BoundaryLine, count: int) -> np.ndarray:
    """``count`` points along the line offset by 10 m, evenly spaced (lon, lat)."""
    srid = gauss_kruger_srid(lon=line.geom.centroid.x)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ST_AsBinary(ST_Transform(ST_LineInterpolatePoints(
                       ST_OffsetCurve(ST_LineMerge(ST_Transform(geom, %s)), 10), 1.0 / %s), 4326))
              FROM boundaries_boundaryline WHERE code = %s
            """,
            [srid, count, line.code],
        )
        return shapely.get_coordinates(shapely.from_wkb(bytes(cursor.fetchone()[0])))


def gpx(points: np.ndarray) -> bytes:
    body = "".join(f'<trkpt lat="{lat:.8f}" lon="{lon:.8f}"/>' for lon, lat in points)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="bench" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{body}</trkseg></trk></gpx>'
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    line = BoundaryLine.objects.filter(code=LINE).first()
    if line is None:
        raise SystemExit("no boundary lines: run `make run` (or scripts/setup.sh run) first")
    data = gpx(track_points(line, args.points))
    print(
        f"upload benchmark: {args.points:,} track points along {line.name} ({line.length_m / 1000:.0f} km, "
        f"{line.geom.num_points} vertices), GPX {len(data) / 1e6:.1f} MB"
    )

    limits = UploadLimits(max_bytes=len(data) + 1)
    start = time.perf_counter()
    survey_file_parse(data=data, filename="bench.gpx", limits=limits)  # starts the forkserver
    first_s = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    parsed = survey_file_parse(data=data, filename="bench.gpx", limits=limits)
    parse_s = time.perf_counter() - start
    track = next(f for f in parsed.features if f.kind == "track")
    geos = GEOSGeometry(memoryview(track.geometry.wkb), srid=4326)
    start = time.perf_counter()
    deviation = track_deviation(
        track=geos if geos.geom_type == "MultiLineString" else MultiLineString(geos, srid=4326),
        line=line.geom,
        tolerance_m=15,
    )
    measure_s = time.perf_counter() - start
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  service: parse {parse_s:.2f} s + measure in PostGIS {measure_s:.2f} s = {parse_s + measure_s:.2f} s; "
        f"Python peak {python_peak / 1e6:.0f} MB, process peak RSS {rss_mb:.0f} MB"
    )
    child = parsed.stats
    print(
        f"           first parse {first_s:.2f} s (starts the forkserver); reading child: CPU {child['cpu_s']:.2f} s, "
        f"peak RSS {child['peak_rss_mb']:.0f} MB"
    )
    print(
        f"           {deviation.points:,} points, mean {deviation.mean_m:.2f} m, max {deviation.max_m:.2f} m, "
        f"p95 {deviation.p95_m:.2f} m, within 15 m {deviation.share_within:.1%}"
    )

    # Baseline: project with pyproj and measure each point against the whole line with shapely.
    srid = gauss_kruger_srid(lon=line.geom.centroid.x)
    to_gk = Transformer.from_crs(4326, srid, always_xy=True)
    start = time.perf_counter()
    xy = shapely.get_coordinates(track.geometry)
    points = shapely.points(np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1])))
    official = shapely.transform(
        shapely.from_wkb(bytes(line.geom.wkb)), lambda c: np.column_stack(to_gk.transform(c[:, 0], c[:, 1]))
    )
    distances = shapely.distance(points, official)
    baseline_s = time.perf_counter() - start
    print(
        f"  baseline (shapely, no index): measure {baseline_s:.2f} s; mean {distances.mean():.2f} m, "
        f"max {distances.max():.2f} m"
    )
    print(f"  ratio baseline / PostGIS measure: {baseline_s / measure_s:.2f}x")


if __name__ == "__main__":
    main()
