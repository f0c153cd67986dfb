"""Figures for the boundary lines: what the derivation produces and how long it takes, and the
latency of the inspection API through Django's test client (in-process, no HTTP server).

Run after the data is loaded:  .venv/bin/python bench/lines.py [--repeat 20]
Note: it runs derive_boundary_lines once more (idempotent: upserts by code, history kept).
"""

import argparse
import os
import statistics
import time

from common import django_setup

django_setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from boundaries.models import BoundaryLine, Division, TriJunction  # noqa: E402
from gis_portal.core import sql  # noqa: E402
from gis_portal.core.region import MUNICIPALITY_CODE  # noqa: E402

TABLES = {"line": BoundaryLine, "division": Division, "trijunction": TriJunction}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    start = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("derive_boundary_lines", stdout=quiet)
    print(f"derive_boundary_lines: {time.perf_counter() - start:.1f} s")
    by_level = sql.compose(
        "SELECT level, count(*) AS lines, sum(length_m) / 1000 AS km FROM {line} GROUP BY level ORDER BY level",
        **TABLES,
    )
    for row in sql.rows(by_level):
        print(f"  {row['level']:9s} {row['lines']:5d} lines {row['km']:10,.1f} km")
    outline = sql.compose(
        "SELECT (SELECT sum(length_m) FROM {line} WHERE level = 'province') AS provincial,"
        "       (SELECT ST_Length(ST_Boundary(geom)::geography) FROM {division} WHERE code = %(code)s) AS perimeter",
        **TABLES,
    )
    lengths = sql.row(outline, {"code": MUNICIPALITY_CODE})
    provincial, perimeter = lengths["provincial"], lengths["perimeter"]
    print(
        f"  provincial lines {provincial:,.1f} m vs municipal perimeter {perimeter:,.1f} m "
        f"({(provincial - perimeter) / perimeter:+.4%})"
    )
    junctions = sql.compose("SELECT level, count(*) AS n FROM {trijunction} GROUP BY level ORDER BY level", **TABLES)
    print("  tri-junctions: " + ", ".join(f"{row['level']} {row['n']}" for row in sql.rows(junctions)))

    client = Client(HTTP_HOST="127.0.0.1")
    for url in (
        "/api/v1/boundary-lines?level=county",
        "/api/v1/boundary-lines?level=county&simplify=50",
        "/api/v1/boundary-lines/500103-500105",
        "/api/v1/markers?page_size=5000",
        "/api/v1/inspections/summary?group_by=district",
        "/inspections/",
    ):
        samples = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        samples.sort()
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        median = statistics.median(samples)
        print(f"{url:50s} p50 {median:7.1f} ms  p95 {p95:7.1f} ms  {len(response.content):>9,} bytes")


if __name__ == "__main__":
    main()
