"""Benchmark of whole layers as GeoJSON: each layer (facilities, villages and communities, townships
at simplify=50) through the service (OGC API items over HTTP from one gunicorn worker, 10,000
features a request, following ``next``), through the DRF serializer path the v1 lists used
(the DRF view with ``GeoFeatureModelSerializer``, in this process, so without HTTP: a lower bound
of that path), and from the database alone (``psql`` writing the same features). Facilities also
at 1,000 features (one page).

The service is measured three ways, each layer in one run: ``kept``, the layer in the shared cache
(``gis_portal.portal.ogc.layer_cache``; what every read after the first gets until the data
change); ``first``, the first read after a change (its pages from the database, the layer kept
once the first page has gone: the server's kept layers are deleted from Redis before it); and
``uncached``, a second server with the layer cache off (every page from PostgreSQL, as before).

It prints the time to the first byte of a page (median of the runs), the worker's memory (RSS, PSS
and USS at start; peak RSS, and peak PSS and USS sampled while it serves the layers) and the
master's, the ratios of the uncached service, and last one line, for the service as it runs (the
layer kept): ``layers: facilities service/database X.XX, serializer/service Y.Y``.

Run after `make run` has loaded the data:  .venv/bin/python bench/layers.py [--repeat 3]
"""

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from common import ROOT, django_setup, free_port

django_setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework import generics  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from boundaries.api import DivisionSerializer  # noqa: E402
from boundaries.selectors import division_list  # noqa: E402
from facilities.api import FacilitySerializer  # noqa: E402
from facilities.selectors import facility_list  # noqa: E402
from gis_portal.core.api import GeoJsonPagination, with_geojson  # noqa: E402
from gis_portal.portal.ogc import collections as layers  # noqa: E402
from gis_portal.portal.ogc.selectors import CRS84, CRSS, PAGE_SETTINGS, items_page_sql, items_query  # noqa: E402

PAGE = 10_000
# name: (OGC collection, simplify metres, the serializer path's queryset and serializer)
LAYERS = {
    "facilities": ("facilities", 0, lambda: with_geojson(facility_list(), "point"), FacilitySerializer),
    "villages": (
        "villages",
        0,
        lambda: with_geojson(division_list().filter(level="village"), "shape"),
        DivisionSerializer,
    ),
    "townships": (
        "townships",
        50,
        lambda: with_geojson(division_list().filter(level="township"), "shape", simplify_m=50),
        DivisionSerializer,
    ),
}


class Server:
    """One gunicorn worker serving the portal; ``get`` follows a layer's pages."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.cache_prefix = f"bench-{uuid.uuid4().hex}"
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "gis_portal.portal.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "300",
            ],
            cwd=ROOT,
            # Its own cache keys: the layers start not kept.
            env={
                **os.environ,
                "THROTTLE_OGC_ANON": "100000/minute",
                "CACHE_KEY_PREFIX": self.cache_prefix,
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

    def forget_layers(self) -> None:
        """Delete the layers this server has kept (its own keys in Redis): the next read is a first."""
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{self.cache_prefix}:*", count=1000):
            client.delete(key)

    def wait_kept(self, collection: str) -> None:
        """Wait until the server has kept the layer (it reads it after the first page has gone)."""
        client = cache._cache.get_client(write=True)
        kept = re.compile(rf":ogc-layer:{re.escape(collection)}:[0-9a-f]{{32}}$".encode())
        for _ in range(300):
            keys = list(client.scan_iter(match=f"{self.cache_prefix}:*ogc-layer:{collection}:*", count=1000))
            if any(kept.search(key) for key in keys) and not any(key.endswith(b":reading") for key in keys):
                return
            time.sleep(0.05)
        raise SystemExit(f"the layer {collection} was not kept within 15 s")

    def request(self, path: str) -> http.client.HTTPResponse:
        # gunicorn's sync worker closes each connection after its answer: one connection a request.
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        client.request("GET", path)
        return client.getresponse()

    def worker_pid(self) -> int:
        for _ in range(100):  # the master binds the socket before it forks the worker
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            if children:
                return int(children[0])
            time.sleep(0.1)
        raise SystemExit("gunicorn started no worker")

    def worker_peak_mb(self) -> float:
        """The worker's peak resident set (VmHWM): the whole process, its share of what the master
        preloaded (copy-on-write, shared with the other workers) counted in full."""
        return _status_mb(self.worker_pid(), "VmHWM")

    def memory_mb(self, pid: int | None = None) -> dict:
        """RSS, PSS (shared pages divided among the processes sharing them) and USS (the process's
        own pages) of a process now, from /proc/PID/smaps_rollup, in MB."""
        fields = {}
        for line in Path(f"/proc/{pid or self.worker_pid()}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
        return {"rss": fields["Rss"], "pss": fields["Pss"], "uss": fields["Private_Clean"] + fields["Private_Dirty"]}

    def sample_start(self) -> None:
        """Sample the worker's memory every 20 ms (PSS and USS have no kernel high-water mark)."""
        self.peak = self.memory_mb()
        self.sampling = True

        def sample():
            pid = self.worker_pid()
            while self.sampling:
                now = self.memory_mb(pid)
                self.peak = {key: max(self.peak[key], now[key]) for key in now}
                time.sleep(0.02)

        self.sampler = threading.Thread(target=sample, daemon=True)
        self.sampler.start()

    def sample_stop(self) -> dict:
        self.sampling = False
        self.sampler.join()
        return self.peak

    def layer(self, path: str) -> tuple[float, float, int, int]:
        """Seconds for the whole layer, seconds to the first byte of its first page, features, bytes."""
        start = time.perf_counter()
        first_byte = None
        features = size = 0
        while path:
            response = self.request(path)
            head = response.read(1)
            first_byte = first_byte or time.perf_counter() - start
            body = head + response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}: {body[:200]!r}")
            page = _tail(body)  # the members after the features: parsing 8 MB here would be timed
            features += page["numberReturned"]
            size += len(body)
            following = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
            path = urlsplit(following)._replace(scheme="", netloc="").geturl() if following else None
        return time.perf_counter() - start, first_byte, features, size

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


class WholePagination(GeoJsonPagination):
    max_page_size = 100_000


def serializer_path(queryset, serializer, *, limit: int | None) -> tuple[float, int]:
    """The v1 list as a DRF view wrote it before issue 12: the queryset (geometry already rendered by
    ST_AsGeoJSON), GeoFeatureModelSerializer, the GeoJSON paginator and the JSON renderer, called
    in this process (no HTTP, so a lower bound of that path's time)."""
    view = type(
        "SerializerList",
        (generics.ListAPIView,),
        {"serializer_class": serializer, "pagination_class": WholePagination, "get_queryset": lambda self: queryset},
    ).as_view()
    request = APIRequestFactory().get("/", {"page_size": limit or 100_000}, HTTP_HOST="127.0.0.1")
    start = time.perf_counter()
    response = view(request)
    response.render()
    if response.status_code != 200:
        raise SystemExit(f"serializer path answered {response.status_code}")
    return time.perf_counter() - start, len(response.content)


def database_alone(collection_id: str, *, simplify_m: float, limit: int) -> float:
    """``psql`` writing the layer's FeatureCollection (the same feature SQL) to /dev/null."""
    collection = layers.collection_get(collection_id)
    query = items_query(collection, crs=CRSS[CRS84], simplify_m=simplify_m, today=timezone.localdate())
    page = items_page_sql(query, limit=limit, offset=0)
    whole = "SELECT '{\"type\":\"FeatureCollection\",\"features\":[' || string_agg(f, ',') || ']}' FROM (%s) p(f)"
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        text = whole % cursor.mogrify(page, query.params).decode()
    settings = connection.settings_dict
    # The same work_mem as the service's page queries (PAGE_SETTINGS).
    options = " ".join(f"-c {name}={value}" for name, value in PAGE_SETTINGS.items())
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or "", "PGOPTIONS": options}
    command = [
        "psql",
        "-X",
        "-q",
        "-At",
        "-h",
        settings["HOST"] or "127.0.0.1",
        "-p",
        str(settings["PORT"] or 5432),
        "-U",
        settings["USER"],
        "-d",
        settings["NAME"],
        "-o",
        "/dev/null",
        "-c",
        text,
    ]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    return time.perf_counter() - start


def best(samples: list[float]) -> float:
    return min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (the best is shown)")
    args = parser.parse_args()
    server = Server()
    uncached_server = Server(OGC_LAYER_CACHE_SECONDS="0")
    results = {}
    try:
        started = server.memory_mb()  # the worker as forked, before any request
        master = server.memory_mb(server.process.pid)
        server.layer("/ogc/collections/markers/items?limit=10")  # warm up the workers
        uncached_server.layer("/ogc/collections/markers/items?limit=10")
        baseline_mb = server.worker_peak_mb()
        server.sample_start()
        cases = [("facilities 1,000", "facilities", 1000), *((name, name, None) for name in LAYERS)]
        print(
            f"{'layer':<18}{'features':>9}{'MB':>6}{'kept s':>8}{'first s':>9}{'uncached s':>11}"
            f"{'1st byte ms':>12}{'serializer s':>13}{'database s':>11}{'ser/kept':>9}{'kept/db':>8}"
            f"{'ser/unc':>8}{'unc/db':>7}"
        )
        for label, name, limit in cases:
            collection, simplify_m, queryset, serializer = LAYERS[name]
            page = min(limit or PAGE, PAGE)
            path = f"/ogc/collections/{collection}/items?limit={page}" + (
                f"&simplify={simplify_m}" if simplify_m else ""
            )
            if limit:
                path += "&offset=0"

            def read(on: Server, path: str = path, whole: bool = not limit) -> tuple[float, float, int, int]:
                return on.layer(path) if whole else _one_page(on, path)

            server.forget_layers()
            first_s, first_byte, count, size = read(server)  # not kept yet: read, then kept
            server.wait_kept(collection)
            runs = [read(server) for _ in range(args.repeat)]
            uncached = [read(uncached_server) for _ in range(args.repeat)]
            serializer_s = best([serializer_path(queryset(), serializer, limit=limit)[0] for _ in range(args.repeat)])
            database_s = best(
                [database_alone(collection, simplify_m=simplify_m, limit=limit or 10**6) for _ in range(args.repeat)]
            )
            kept_s = best([run[0] for run in runs])
            uncached_s = best([run[0] for run in uncached])
            first_ms = statistics.median([first_byte] + [run[1] for run in runs + uncached]) * 1000
            results[label] = (kept_s, uncached_s, serializer_s, database_s)
            print(
                f"{label:<18}{count:>9}{size / 1e6:>6.1f}{kept_s:>8.3f}{first_s:>9.3f}{uncached_s:>11.3f}"
                f"{first_ms:>12.1f}{serializer_s:>13.3f}{database_s:>11.3f}{serializer_s / kept_s:>9.1f}"
                f"{kept_s / database_s:>8.2f}{serializer_s / uncached_s:>8.1f}{uncached_s / database_s:>7.2f}"
            )
        peak_mb = server.worker_peak_mb()
        sampled = server.sample_stop()
        print(
            f"master (preloads the app) at start: RSS {master['rss']:.0f} MB; worker at start: RSS {started['rss']:.0f}"
            f" MB, PSS {started['pss']:.0f} MB, USS {started['uss']:.0f} MB"
        )
        print(
            f"worker peak: RSS {peak_mb:.0f} MB (VmHWM, the whole process: Django and its libraries included),"
            f" {baseline_mb:.0f} MB after warm-up, so {peak_mb - baseline_mb:.0f} MB for the layers;"
            f" sampled every 20 ms: PSS {sampled['pss']:.0f} MB, USS {sampled['uss']:.0f} MB"
        )
        print(f"uncached worker peak: RSS {uncached_server.worker_peak_mb():.0f} MB")
    finally:
        server.close()
        uncached_server.close()
    kept_s, uncached_s, serializer_s, database_s = results["facilities"]
    print(
        f"uncached: facilities service/database {uncached_s / database_s:.2f}, serializer/service"
        f" {serializer_s / uncached_s:.1f}"
    )
    print(
        f"layers: facilities service/database {kept_s / database_s:.2f}, serializer/service {serializer_s / kept_s:.1f}"
    )


def _one_page(server: Server, path: str) -> tuple[float, float, int, int]:
    start = time.perf_counter()
    response = server.request(path)
    head = response.read(1)
    first_byte = time.perf_counter() - start
    body = head + response.read()
    return time.perf_counter() - start, first_byte, _tail(body)["numberReturned"], len(body)


def _status_mb(pid: int, field: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith(f"{field}:")) / 1024


def _tail(body: bytes) -> dict:
    return json.loads(b"{" + body[body.rindex(b'"numberMatched"') :])


if __name__ == "__main__":
    main()
