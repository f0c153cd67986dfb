"""Benchmark of the place-name search and nearby answers as GeoJSON: the view (the features written
by PostgreSQL, joined; with Last-Modified), and in the same run the serializer path the views took
before issue 12 (the same view's validation, the places as dicts built into Feature dicts, a DRF
``Response`` encoded by its JSON renderer; no Last-Modified), and the query alone. The views are
called in this process (no HTTP, no middleware), on the database of DATABASE_URL (`make run`
loads it). The query is today's (it writes the features); before, it returned columns.

Queries are drawn (seeded) from the gazetteer: names, 专名, pinyin, initials, two-character prefixes,
former names; points near named places with 10 or 100 names asked. Each query runs once untimed
(buffers warm for all), then once per path, the first path changing each turn. It prints p50, p95
and mean per path and last one line:
``placename answers: search serializer/view X.XX, nearby serializer/view Y.YY``.

Run:  .venv/bin/python bench/placename_answers.py [--queries 300] [--points 100]
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from common import django_setup, p95

django_setup()

from django.test import RequestFactory  # noqa: E402
from rest_framework.response import Response  # noqa: E402

from gis_portal.core.api import query_validate  # noqa: E402
from gis_portal.core.formats import geojson_collection  # noqa: E402
from placenames.api import (  # noqa: E402
    SYNTHETIC_NOTE,
    NearbyQuerySerializer,
    NearbyView,
    SearchQuerySerializer,
    SearchView,
    placename_feature,
)
from placenames.models import PlaceName, PlaceNameVariant  # noqa: E402
from placenames.search import placename_search, placename_search_text, search_filters  # noqa: E402
from placenames.selectors import place_answer, placename_nearby_text  # noqa: E402


def collection(features: list[str], **members) -> dict:
    """Before issue 12: each place as a dict, then its Feature dict (DRF encodes the collection)."""
    return geojson_collection([placename_feature(place_answer(text)) for text in features], **members)


class SerializerSearchView(SearchView):
    def last_modified(self):
        return None

    def get(self, request):
        query = query_validate(SearchQuerySerializer, request)
        filters = search_filters(**{key: query.get(key) for key in ("level", "district", "cluster", "date")})
        features = placename_search_text(q=query["q"], limit=query["limit"], filters=filters)
        return Response(collection(features, note=SYNTHETIC_NOTE))


class SerializerNearbyView(NearbyView):
    def last_modified(self):
        return None

    def get(self, request):
        return Response(collection(placename_nearby_text(**query_validate(NearbyQuerySerializer, request))))


def queries_make(count: int, rng: random.Random) -> list[str]:
    places = list(PlaceName.objects.order_by("id").values_list("name", "specific", "pinyin_plain", "initials"))
    former = list(PlaceNameVariant.objects.filter(kind="former").order_by("id").values_list("name", flat=True))
    made = []
    for i in range(count):
        name, specific, plain, initials = rng.choice(places)
        made.append([name, specific or name, plain, initials, name[:2], rng.choice(former)][i % 6])
    return made


def points_make(count: int, rng: random.Random) -> list[dict]:
    points = list(PlaceName.objects.exclude(point=None).order_by("id").values_list("point", flat=True))
    chosen = []
    for i in range(count):
        point = rng.choice(points)
        lon, lat = point.x + rng.uniform(-0.01, 0.01), point.y + rng.uniform(-0.01, 0.01)
        chosen.append({"lon": lon, "lat": lat, "limit": 100 if i % 2 else 10})
    return chosen


def paths_time(paths: dict[str, Callable], samples: dict[str, list[float]], *, turn: int) -> None:
    """Time each path once, starting with a different one each turn (none always runs first)."""
    names = list(paths)
    names = names[turn % len(names) :] + names[: turn % len(names)]
    for name in names:
        start = time.perf_counter()
        paths[name]()
        samples[name].append(time.perf_counter() - start)


def view_body(view, request) -> bytes:
    response = view(request)
    assert response.status_code == 200, response.status_code
    return response.content


def summary(label: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    p50, mean = statistics.median(ms), statistics.fmean(ms)
    return f"{label:<16}p50 {p50:7.2f} ms   p95 {p95(samples):7.2f} ms   mean {mean:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20190101)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    factory = RequestFactory()
    search_view, nearby_view = SearchView.as_view(), NearbyView.as_view()
    serializer_search, serializer_nearby = SerializerSearchView.as_view(), SerializerNearbyView.as_view()
    placename_search(q="渝中")  # warm up the connection and the composed queries

    search = {"view": [], "serializer": [], "query": []}
    features = 0
    for turn, q in enumerate(queries_make(args.queries, rng)):
        request = factory.get("/api/v1/placenames/search", {"q": q}, HTTP_HOST="127.0.0.1")
        features += len(placename_search_text(q=q))  # also warms what the query reads for every path
        paths = {
            "view": partial(view_body, search_view, request),
            "serializer": partial(view_body, serializer_search, request),
            "query": partial(placename_search_text, q=q),
        }
        paths_time(paths, search, turn=turn)

    nearby = {"view": [], "serializer": [], "query": []}
    for turn, point in enumerate(points_make(args.points, rng)):
        request = factory.get("/api/v1/placenames/nearby", point, HTTP_HOST="127.0.0.1")
        placename_nearby_text(**point)
        paths = {
            "view": partial(view_body, nearby_view, request),
            "serializer": partial(view_body, serializer_nearby, request),
            "query": partial(placename_nearby_text, **point),
        }
        paths_time(paths, nearby, turn=turn)

    print(f"search: {args.queries} queries, {features} features (limit 20)")
    for path, samples in search.items():
        print(summary(f"  {path}", samples))
    print(f"nearby: {args.points} points, limit 10 and 100 in turn")
    for path, samples in nearby.items():
        print(summary(f"  {path}", samples))
    ratio = {
        name: statistics.fmean(s["serializer"]) / statistics.fmean(s["view"])
        for name, s in (("search", search), ("nearby", nearby))
    }
    print(
        f"placename answers: search serializer/view {ratio['search']:.2f}, nearby serializer/view {ratio['nearby']:.2f}"
    )


if __name__ == "__main__":
    main()
