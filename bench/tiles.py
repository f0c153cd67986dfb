"""Benchmark of the vector tiles: p50/p95 per tile over HTTP for a sample of tiles over Chongqing at
zooms 6-14, uncached (first request) and cached (the same tile again), per layer; and the payload of
each layer as MVT (all tiles over the municipality at zoom 8 and 10) against one GeoJSON document of
the same layer from the API.

Run after `make run` has loaded the data:  .venv/bin/python bench/tiles.py [--per-zoom 20]
"""

import argparse
import random

import mercantile
from common import django_setup, gunicorn, percentiles

django_setup()

from boundaries.models import Division  # noqa: E402
from gis_portal.portal.tiles import LAYERS  # noqa: E402

GEOJSON = {
    "townships": "/api/v1/divisions?level=township&page_size=20000",
    "villages": "/api/v1/divisions?level=village&page_size=20000",
    "placenames": None,  # no whole-layer GeoJSON document in the API (search and per-district export)
    "facilities": "/api/v1/facilities?page_size=20000",
    "boundary-lines": "/api/v1/boundary-lines?page_size=20000",
    "markers": "/api/v1/markers?page_size=20000",
}


def region_tiles(zoom: int) -> list[mercantile.Tile]:
    west, south, east, north = Division.objects.get(level="municipality").geom.extent
    return list(mercantile.tiles(west, south, east, north, zoom))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-zoom", type=int, default=20, help="random tiles per zoom and layer")
    args = parser.parse_args()
    rng = random.Random(20190101)
    print(f"tile benchmark: layers {', '.join(LAYERS)}; zooms 6-14, {args.per_zoom} tiles each; 1 gunicorn worker")
    with gunicorn(workers=1) as get:
        get("/tiles/townships/8/207/107.pbf")  # warm up the worker
        for layer in LAYERS:
            uncached, cached, sizes = [], [], []
            for zoom in range(6, 15):
                tiles = region_tiles(zoom)
                for t in rng.sample(tiles, min(args.per_zoom, len(tiles))):
                    path = f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.pbf"
                    body, seconds = get(path)
                    uncached.append(seconds)
                    sizes.append(len(body))
                    cached.append(get(path)[1])
            print(f"  {layer:15s} uncached {percentiles(uncached)}")
            print(f"  {'':15s} cached   {percentiles(cached)}   (mean tile {sum(sizes) / len(sizes) / 1024:.1f} KiB)")
        print("  payload of each layer over the municipality:")
        for layer, url in GEOJSON.items():
            mvt = {
                z: sum(len(get(f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.pbf")[0]) for t in region_tiles(z)) for z in (8, 10)
            }
            document = f"{len(get(url)[0]) / 1e6:7.2f} MB" if url else "      —"
            print(
                f"  {layer:15s} MVT z8 {mvt[8] / 1e6:6.2f} MB, z10 {mvt[10] / 1e6:6.2f} MB; GeoJSON document {document}"
            )


if __name__ == "__main__":
    main()
