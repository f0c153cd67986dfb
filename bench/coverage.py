"""Benchmark of the whole region's radius coverage: every demand point of the category's radius
standard against every open facility of the category, rolled up by district.

  - service: ``facilities.selectors.coverage_by_division`` (one SQL query over the maintained
    nearest-facility table, ``NearestFacility``), and ``coverage_gaps`` over all uncovered points;
  - baseline: geopandas in memory: both layers loaded once, projected to CGCS2000 3-degree
    Gauss-Krüger CM 108°E (EPSG:4545; scale error under 0.1% across Chongqing), then
    ``sjoin_nearest`` with the distance, covered = distance <= radius, grouped by district.

Then the same with 10x the demand points: nine jittered copies of every demand point (within
2 km, same township) in a temporary table that shadows ``boundaries_division`` for this
connection only (pg_temp comes first in the search path), and the nearest-facility table filled
for them (one KNN pass, timed) in the same transaction, rolled back: nothing is written.

Run after `make run` has set up the database:  .venv/bin/python bench/coverage.py [--category elder_station]
"""

import argparse
import os
import statistics
import time

from common import django_setup

django_setup()

import geopandas  # noqa: E402
import numpy as np  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from facilities.models import CoverageStandard, NearestFacility  # noqa: E402
from facilities.scenarios import coverage_scenario, scenario_check  # noqa: E402
from facilities.selectors import coverage_by_division, coverage_demand_kinds, coverage_gaps  # noqa: E402
from facilities.services import coverage_nearest_rebuild  # noqa: E402

METRIC_CRS = 4545


def timed(fn, repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def load_frames(standard: CoverageStandard) -> tuple[geopandas.GeoDataFrame, geopandas.GeoDataFrame]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT d.id, d.kind, t.parent_id, ST_X(d.point), ST_Y(d.point)
                 FROM boundaries_division d JOIN boundaries_division t ON t.id = d.parent_id
                WHERE d.level = 'village' AND d.point IS NOT NULL AND d.kind = ANY(%(kinds)s)""",
            {"kinds": coverage_demand_kinds(standard)},
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT id, ST_X(point), ST_Y(point) FROM facilities_facility WHERE category = %s AND status = 'open'",
            [standard.category],
        )
        fac = cursor.fetchall()
    ids, kinds, districts, xs, ys = zip(*rows, strict=True)
    demand = geopandas.GeoDataFrame(
        {"id": ids, "kind": kinds, "district_id": districts}, geometry=geopandas.points_from_xy(xs, ys), crs=4326
    )
    fids, fxs, fys = zip(*fac, strict=True)
    facilities = geopandas.GeoDataFrame({"facility_id": fids}, geometry=geopandas.points_from_xy(fxs, fys), crs=4326)
    return demand, facilities


def baseline(demand: geopandas.GeoDataFrame, facilities: geopandas.GeoDataFrame, standard: CoverageStandard):
    """geopandas: project, nearest facility with distance, covered within the radius, by district."""
    d = demand.to_crs(METRIC_CRS)
    f = facilities.to_crs(METRIC_CRS)
    joined = geopandas.sjoin_nearest(d, f, how="left", distance_col="distance_m")
    joined = joined[~joined.index.duplicated()]  # ties: one row per demand point
    radius = np.where(joined["kind"] == "community", standard.radius_urban_m or 0, standard.radius_rural_m or 0)
    joined["covered"] = joined["distance_m"] <= radius
    return joined.groupby("district_id").agg(points=("id", "size"), covered=("covered", "sum"))


def multiply_demand(standard: CoverageStandard, *, factor: int) -> int:
    """A temporary ``boundaries_division`` with ``factor - 1`` jittered copies of each demand point."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE boundaries_division (LIKE public.boundaries_division INCLUDING DEFAULTS)")
        cursor.execute("INSERT INTO boundaries_division SELECT * FROM public.boundaries_division")
        cursor.execute("SELECT setseed(0.42)")  # the same copies on every run
        cursor.execute(
            """INSERT INTO boundaries_division (id, code, name, level, kind, parent_id, cluster_id, point,
                                                population, elderly_population, is_synthetic, source, source_datum)
               SELECT d.id + 100000000 * k, d.code, d.name, d.level, d.kind, d.parent_id, d.cluster_id,
                      ST_Project(d.point::geography, 2000 * sqrt(random()), 2 * pi() * random())::geometry,
                      d.population, d.elderly_population, true, 'bench', 'generated'
                 FROM public.boundaries_division d, generate_series(1, %(copies)s) k
                WHERE d.level = 'village' AND d.point IS NOT NULL AND d.kind = ANY(%(kinds)s)""",
            {"copies": factor - 1, "kinds": coverage_demand_kinds(standard)},
        )
        cursor.execute("CREATE INDEX ON boundaries_division (id)")
        cursor.execute("CREATE INDEX ON boundaries_division (level)")
        cursor.execute("CREATE INDEX ON boundaries_division USING gist (point)")
        cursor.execute("ANALYZE boundaries_division")
        cursor.execute("SELECT count(*) FROM boundaries_division WHERE level = 'village' AND kind = ANY(%s)",
                       [coverage_demand_kinds(standard)])  # fmt: skip
        return cursor.fetchone()[0]


def run(standard: CoverageStandard, *, label: str, repeat: int) -> dict:
    service_s, rollup = timed(
        lambda: coverage_by_division(category=standard.category, group_by="district"), repeat=repeat
    )
    gaps_s, gaps = timed(lambda: coverage_gaps(category=standard.category, limit=1_000_000), repeat=repeat)
    load_start = time.perf_counter()
    demand, facilities = load_frames(standard)
    load_s = time.perf_counter() - load_start
    geopandas_s, table = timed(lambda: baseline(demand, facilities, standard), repeat=repeat)
    service_covered = sum(r["covered"] for r in rollup["results"])
    points = sum(r["demand_points"] for r in rollup["results"])
    missing = gaps["total_uncovered"]
    print(f"  {label:<10} {points:>7,} demand points, {len(facilities):,} facilities")
    print(
        f"    service  coverage_by_division (SQL, by district): {service_s * 1000:8.1f} ms  covered {service_covered:,}"
    )
    print(f"    service  coverage_gaps (nearest of {missing:,} uncovered): {gaps_s * 1000:8.1f} ms")
    print(
        f"    baseline geopandas sjoin_nearest, in memory:        {geopandas_s * 1000:8.1f} ms  "
        f"covered {int(table['covered'].sum()):,}  (+ {load_s * 1000:.0f} ms to read and build the frames)"
    )
    return {"points": points, "service": service_s, "geopandas": geopandas_s, "load": load_s, "gaps": gaps_s}


def scenario(standard: CoverageStandard, *, repeat: int) -> float:
    """A region scenario: stations at the 5 demand points farthest from one, and the station
    nearest to most points closed; computed (today, scenario, change, gaps) and rolled back."""
    far = NearestFacility.objects.filter(category=standard.category).order_by("-distance_m")[:5]
    add = [{"lon": n.point.x, "lat": n.point.y, "category": standard.category} for n in far]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT facility_id FROM facilities_nearestfacility WHERE category = %s AND facility_id IS NOT NULL"
            " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            [standard.category],
        )
        close = [cursor.fetchone()[0]]
    definition = scenario_check(category=standard.category, kind="radius", add=add, close=close)
    seconds, result = timed(lambda: coverage_scenario(definition=definition), repeat=repeat)
    print(
        f"  scenario (region, 5 added, 1 closed): {seconds * 1000:8.1f} ms  covered "
        f"{result['today']['covered']:,} -> {result['scenario']['covered']:,} ({result['change']['covered']:+d})"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--category", default="elder_station")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    standard = CoverageStandard.objects.filter(category=args.category, kind="radius", active=True).first()
    if standard is None:
        raise SystemExit(f"no active radius standard for {args.category}")
    print(f"coverage benchmark: {args.category}, {standard.radius_urban_m} m / {standard.radius_rural_m} m, "
          f"{os.cpu_count()} CPUs, median of {args.repeat}")  # fmt: skip
    region = run(standard, label="region", repeat=args.repeat)
    scenario_s = scenario(standard, repeat=args.repeat)
    with transaction.atomic():
        multiply_demand(standard, factor=args.factor)
        fill_start = time.perf_counter()
        rows = coverage_nearest_rebuild()
        print(
            f"  nearest-facility table filled for {args.factor}x: {rows:,} rows in "
            f"{(time.perf_counter() - fill_start) * 1000:.0f} ms (one KNN pass; kept current by the services)"
        )
        bigger = run(standard, label=f"{args.factor}x", repeat=args.repeat)
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.boundaries_division")
        cursor.execute("VACUUM ANALYZE facilities_nearestfacility")  # the rolled-back rows' dead tuples
    growth = bigger["service"] / region["service"]
    ratio = bigger["points"] / region["points"]
    print(f"  service grows {growth:.1f}x for {ratio:.0f}x the points")
    for name, r in (("region", region), (f"{args.factor}x", bigger)):
        print(
            f"  {name}: service / geopandas in memory = {r['service'] / r['geopandas']:.2f}; "
            f"service / geopandas incl. reading = {r['service'] / (r['geopandas'] + r['load']):.2f}"
        )
    print(
        f"coverage: region service/geopandas {region['service'] / region['geopandas']:.2f}, "
        f"{args.factor}x service/geopandas {bigger['service'] / bigger['geopandas']:.2f}, "
        f"gaps {args.factor}x {bigger['gaps'] * 1000:.0f} ms, scenario 5+1 {scenario_s * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
