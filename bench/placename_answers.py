"""Benchmark of the place-name search and nearby answers as GeoJSON: the view (the features written
by PostgreSQL, joined), and in the same run the serializer path the views took before issue 12 (the
same places as dicts, built into Feature dicts and encoded by DRF's JSON renderer), and the query
alone. In this process, without HTTP, on the database of DATABASE_URL (`make run` loads it).

Queries are drawn (seeded) from the gazetteer: names, 专名, pinyin, initials, two-character prefixes,
former names; points near named places with 10 or 100 names asked. Each query runs once per path in
turn, so that the paths share the machine's state. It prints p50 and mean per path and last one line:
``placename answers: search serializer/view X.XX, nearby serializer/view Y.YY``.

Run:  .venv/bin/python bench/placename_answers.py [--queries 300] [--points 100]
"""

import argparse
import random
import statistics
import time

from common import django_setup, p95

django_setup()

from django.test import RequestFactory  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402

from gis_portal.core.formats import geojson_collection  # noqa: E402
from placenames.api import SYNTHETIC_NOTE, NearbyView, SearchView, placename_feature  # noqa: E402
from placenames.models import PlaceName, PlaceNameVariant  # noqa: E402
from placenames.search import placename_search, placename_search_text  # noqa: E402
from placenames.selectors import place_answer, placename_nearby_text  # noqa: E402


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


def timed(call, *args, **kwargs) -> float:
    """Seconds ``call(*args, **kwargs)`` took."""
    start = time.perf_counter()
    call(*args, **kwargs)
    return time.perf_counter() - start


def view_body(view, request) -> bytes:
    return view(request).content


def serialized(features: list[str], **members) -> bytes:
    """Before issue 12: each place as a dict, its Feature dict, the collection encoded by DRF."""
    places = [place_answer(text) for text in features]
    return JSONRenderer().render(geojson_collection([placename_feature(p) for p in places], **members))


def search_serialized(q: str) -> bytes:
    return serialized(placename_search_text(q=q), note=SYNTHETIC_NOTE)


def nearby_serialized(point: dict) -> bytes:
    return serialized(placename_nearby_text(**point))


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
    placename_search(q="渝中")  # warm up the connection and the composed queries

    search = {"view": [], "serializer": [], "query": []}
    features = 0
    for q in queries_make(args.queries, rng):
        request = factory.get("/api/v1/placenames/search", {"q": q}, HTTP_HOST="127.0.0.1")
        search["view"].append(timed(view_body, search_view, request))
        search["serializer"].append(timed(search_serialized, q))
        search["query"].append(timed(placename_search_text, q=q))
        features += len(placename_search_text(q=q))

    nearby = {"view": [], "serializer": [], "query": []}
    for point in points_make(args.points, rng):
        request = factory.get("/api/v1/placenames/nearby", point, HTTP_HOST="127.0.0.1")
        nearby["view"].append(timed(view_body, nearby_view, request))
        nearby["serializer"].append(timed(nearby_serialized, point))
        nearby["query"].append(timed(placename_nearby_text, **point))

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
