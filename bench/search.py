"""Benchmark of /api/v1/placenames/search and /autocomplete at one million names.

Builds (once) a separate benchmark database, ``gis_bench_search`` by default, on the server of
DATABASE_URL: PostGIS and pg_trgm, migrated, the Chongqing data and gazetteer loaded through
``load_chongqing`` (12,340 real names), then 1,000,000 generated names (roads, streets, hills,
rivers, facilities, made of the real names' characters, so the queries hit crowded prefixes and
trigrams) inserted by one ``INSERT ... SELECT generate_series`` in SQL. Then it runs 1,000 mixed
queries (Chinese, traditional, specific part only, pinyin with and without tone marks, initials,
prefixes, typos and homophones) over HTTP against gunicorn on a free port, and in the same run the
same queries through a naive Django ``icontains`` baseline (in-process ORM, no HTTP overhead; a
seeded sample of 100 of them by default, as each takes about two seconds at a million names).

With ``--replica-port`` (a local streaming replica, ``scripts/replica.sh start``) it also runs two
servers side by side, one reading through the router from the replica (DATABASE_REPLICA_URLS), one
from the primary only, each query sent to both in alternating order; it counts where the reads went
(the request log's ``reads``, and each server's transactions) and gives the p95 ratio.

Run:  .venv/bin/python bench/search.py [--names 1000000] [--queries 1000] [--rebuild] [--replica-port 5433]
"""

import argparse
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import dj_database_url
import psycopg2
import psycopg2.sql
from common import ROOT, gunicorn, p95, percentiles

sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgis://postgres@127.0.0.1:5432/gis_portal"

# Generic parts of the generated names: (generic, pinyin, feature class).
GENERATED_GENERICS = [
    ("路", "lu", "road"),
    ("街", "jie", "road"),
    ("巷", "xiang", "road"),
    ("大道", "dadao", "road"),
    ("山", "shan", "natural"),
    ("河", "he", "natural"),
    ("湾", "wan", "natural"),
    ("沟", "gou", "natural"),
    ("桥", "qiao", "facility"),
    ("公园", "gongyuan", "facility"),
    ("小区", "xiaoqu", "other"),
    ("广场", "guangchang", "facility"),
]


# The generated names, drawn by hashing serial numbers (temporary tables bc: characters, bg: generic
# parts, bd: districts).
GENERATED_NAMES_SQL = """
    WITH n AS (
        SELECT g,
               (hashint4(g * 8 + 1)::bigint & 2147483647) %% %(nc)s AS c1,
               (hashint4(g * 8 + 2)::bigint & 2147483647) %% %(nc)s AS c2,
               (hashint4(g * 8 + 3)::bigint & 2147483647) %% %(nc)s AS c3,
               (hashint4(g * 8 + 4)::bigint & 2147483647) %% 10 < 6 AS three,
               (hashint4(g * 8 + 5)::bigint & 2147483647) %% %(ng)s AS gi,
               (hashint4(g * 8 + 6)::bigint & 2147483647) %% 38 AS di,
               (hashint4(g * 8 + 7)::bigint & 2147483647) %% 100000 AS dx
          FROM generate_series(1, %(count)s) AS g
    ),
    parts AS (
        SELECT n.g, n.dx, a.ch || b.ch || CASE WHEN n.three THEN c.ch ELSE '' END AS spec,
               a.py || b.py || CASE WHEN n.three THEN c.py ELSE '' END AS spec_py,
               left(a.py, 1) || left(b.py, 1) || CASE WHEN n.three THEN left(c.py, 1) ELSE '' END AS spec_ini,
               gg.g AS gen, gg.py AS gen_py, gg.ini AS gen_ini, gg.cls,
               d.id AS district_id, d.cluster_id, d.point
          FROM n JOIN bc a ON a.i = n.c1 JOIN bc b ON b.i = n.c2 JOIN bc c ON c.i = n.c3
          JOIN bg gg ON gg.i = n.gi JOIN bd d ON d.i = n.di
    )
    INSERT INTO {placename} (name, specific, generic, pinyin, pinyin_tone, pinyin_plain, initials,
           feature_class, rank, parent_id, district_id, cluster_id, point, status, meaning, history_text,
           approval_ref, is_synthetic)
    SELECT spec || gen, spec, gen, initcap(spec_py) || ' ' || initcap(gen_py), '', spec_py || gen_py,
           spec_ini || gen_ini,
           cls, 4, district_id, district_id, cluster_id,
           ST_Translate(point, ((dx %% 317) - 158) / 2000.0, ((dx / 317) - 158) / 2000.0), 'standard', '',
           'generated for the search benchmark', '', true
      FROM parts
"""


def bench_url(base_url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def database_create(url: str, *, rebuild: bool) -> bool:
    """Create the benchmark database (dropped first with ``rebuild``); True if it was created."""
    config = dj_database_url.parse(url)
    admin = psycopg2.connect(
        dbname="postgres", user=config["USER"], host=config["HOST"], port=config["PORT"], password=config["PASSWORD"]
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        if rebuild:
            cursor.execute(
                psycopg2.sql.SQL("DROP DATABASE IF EXISTS {}").format(psycopg2.sql.Identifier(config["NAME"]))
            )
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone():
            return False
        cursor.execute(psycopg2.sql.SQL("CREATE DATABASE {}").format(psycopg2.sql.Identifier(config["NAME"])))
    admin.close()
    db = psycopg2.connect(
        dbname=config["NAME"],
        user=config["USER"],
        host=config["HOST"],
        port=config["PORT"],
        password=config["PASSWORD"],
    )
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm")
    db.close()
    return True


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True, env=os.environ)


def names_generate(count: int) -> None:
    """Insert ``count`` generated names in one SQL statement. Characters and their pinyin come from
    the real names (computed once in Python for the ~2,000 distinct characters); every row is drawn
    by hashing its serial number, so the set is the same on every run."""
    from django.db import connection, transaction
    from pypinyin import Style, lazy_pinyin

    from boundaries.models import Division
    from gis_portal.core import sql
    from placenames.models import PlaceName
    from placenames.text import pinyin_initials

    specifics = PlaceName.objects.filter(rank__lt=4).values_list("specific", flat=True)
    chars = sorted({ch for name in specifics for ch in name})
    char_rows = [(i, ch, lazy_pinyin(ch, style=Style.NORMAL)[0]) for i, ch in enumerate(chars)]
    generic_rows = [(i, g, py, cls, pinyin_initials(g)) for i, (g, py, cls) in enumerate(GENERATED_GENERICS)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("CREATE TEMP TABLE bc (i int, ch text, py text) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bc VALUES (%s, %s, %s)", char_rows)
        cursor.execute("CREATE TEMP TABLE bg (i int, g text, py text, cls text, ini text) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bg VALUES (%s, %s, %s, %s, %s)", generic_rows)
        cursor.execute(
            sql.compose(
                "CREATE TEMP TABLE bd ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY code) - 1 AS i, id,"
                " cluster_id, point FROM {division} WHERE level = 'district'",
                division=Division,
            )
        )
        cursor.execute(
            sql.compose(GENERATED_NAMES_SQL, placename=PlaceName),
            {"count": count, "nc": len(chars), "ng": len(generic_rows)},
        )
    with connection.cursor() as cursor:
        cursor.execute(sql.compose("VACUUM ANALYZE {placename}", placename=PlaceName))


def queries_make(count: int, seed: int = 20190101) -> list[str]:
    """Mixed queries drawn from the real names: full Chinese, traditional, specific part only,
    pinyin (plain, spaced with tone marks), initials, Chinese and pinyin prefixes, typos
    (a pinyin letter dropped) and homophones (a character replaced by another with its pinyin)."""
    from placenames.models import PlaceName
    from placenames.text import pinyin_initials, pinyin_plain, traditional

    rng = random.Random(seed)
    places = list(PlaceName.objects.filter(rank__lt=4).order_by("id").values_list("name", "specific", "pinyin_tone"))
    by_pinyin: dict[str, list[str]] = {}
    for _name, specific, _tone in places:
        for ch in specific:
            by_pinyin.setdefault(pinyin_plain(ch), []).append(ch)
    queries = []
    kinds = ["chinese", "traditional", "specific", "pinyin", "tones"]
    kinds += ["initials", "prefix", "pinyin_prefix", "typo", "homophone"]
    for i in range(count):
        name, specific, tone = rng.choice(places)
        kind = kinds[i % len(kinds)]
        if kind == "chinese":
            q = name
        elif kind == "traditional":
            q = traditional(name)
        elif kind == "specific":
            q = specific
        elif kind == "pinyin":
            q = pinyin_plain(specific)
        elif kind == "tones":
            q = tone
        elif kind == "initials":
            q = pinyin_initials(name)
        elif kind == "prefix":
            q = name[:2]
        elif kind == "pinyin_prefix":
            q = pinyin_plain(name)[:5]
        elif kind == "typo":
            plain = pinyin_plain(name)
            cut = rng.randrange(1, len(plain) - 1)
            q = plain[:cut] + plain[cut + 1 :]
        else:
            pos = rng.randrange(len(specific))
            same = [ch for ch in by_pinyin.get(pinyin_plain(specific[pos]), []) if ch != specific[pos]]
            q = name[:pos] + (rng.choice(same) if same else specific[pos]) + name[pos + 1 :]
        queries.append(q)
    return queries


def bench_http(queries: list[str], *, workers: int) -> tuple[list[float], list[float], int]:
    with gunicorn(workers=workers) as get:
        for q in queries[:40]:  # warm up every worker's connection and caches
            get("/api/v1/placenames/search?q=" + urllib.parse.quote(q))
        search, autocomplete, empty = [], [], 0
        for q in queries:
            quoted = urllib.parse.quote(q)
            body, seconds = get(f"/api/v1/placenames/search?limit=20&q={quoted}")
            search.append(seconds)
            empty += body.startswith(b'{"type":"FeatureCollection","features":[]')
            autocomplete.append(get(f"/api/v1/placenames/autocomplete?limit=10&q={quoted}")[1])
        return search, autocomplete, empty


def bench_icontains(queries: list[str]) -> list[float]:
    """The naive baseline: Django ``icontains`` on the name and the pinyin columns, larger first."""
    from django.db.models import Q

    from placenames.models import PlaceName

    samples = []
    for q in queries:
        plain = q.lower().replace(" ", "")
        start = time.perf_counter()
        list(
            PlaceName.objects.filter(Q(name__icontains=q) | Q(pinyin__icontains=q) | Q(pinyin_plain__icontains=plain))
            .order_by("rank", "name")
            .values("id", "name", "pinyin")[:20]
        )
        samples.append(time.perf_counter() - start)
    return samples


def _connect(url: str):
    config = dj_database_url.parse(url)
    return psycopg2.connect(
        dbname=config["NAME"],
        user=config["USER"],
        host=config["HOST"],
        port=config["PORT"],
        password=config["PASSWORD"],
    )


def transactions(url: str) -> int:
    """Transactions committed in the URL's database on that server (a standby counts its own)."""
    db = _connect(url)
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        (count,) = cursor.fetchone()
    db.close()
    return count - 1  # not this one's own


def replay_wait(primary_url: str, replica_url: str, timeout_s: float = 600) -> None:
    db = _connect(primary_url)
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    db.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            db = _connect(replica_url)
        except psycopg2.OperationalError:
            time.sleep(1)
            continue
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            done = cursor.fetchone()[0]
        db.close()
        if done:
            return
        time.sleep(1)
    raise SystemExit(f"the replica did not catch up with {target} in {timeout_s:.0f} s")


def bench_router(queries: list[str], *, workers: int, url: str, replica_port: int) -> None:
    """Two gunicorn servers at once over the same database, one reading through the router from the
    replica, one from the primary only; every query goes to both, in alternating order, so that the
    machine's load weighs on both alike. Reads are counted from the servers' request log lines
    (``reads``: the databases a request read from) and from each server's transaction counter."""
    parts = urllib.parse.urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    replica_url = urllib.parse.urlunsplit(parts._replace(netloc=f"{user}{parts.hostname}:{replica_port}"))
    replay_wait(url, replica_url)
    before = transactions(url), transactions(replica_url)
    samples: dict[str, list[float]] = {"primary only": [], "with replica": []}
    auto: dict[str, list[float]] = {"primary only": [], "with replica": []}
    with (
        tempfile.TemporaryFile("w+") as log,
        gunicorn(workers=workers, env={**os.environ, "DATABASE_REPLICA_URLS": ""}) as primary_get,
        gunicorn(workers=workers, env={**os.environ, "DATABASE_REPLICA_URLS": replica_url}, log=log) as replica_get,
    ):
        servers = {"primary only": primary_get, "with replica": replica_get}
        for q in queries[:40]:  # warm up every worker's connections and caches
            for get in servers.values():
                get("/api/v1/placenames/search?q=" + urllib.parse.quote(q))
        for i, q in enumerate(queries):
            quoted = urllib.parse.quote(q)
            order = list(servers) if i % 2 == 0 else list(reversed(servers))
            for label in order:
                samples[label].append(servers[label](f"/api/v1/placenames/search?limit=20&q={quoted}")[1])
                auto[label].append(servers[label](f"/api/v1/placenames/autocomplete?limit=10&q={quoted}")[1])
        log.flush()
        log.seek(0)
        reads = collections.Counter()
        router_lines = []  # the replica's changes of state (skipped, in use again), as logged
        for line in log:
            if line.startswith("{") and '"reads"' in line:
                reads[json.loads(line).get("reads")] += 1
            elif line.startswith("{") and '"gis_portal.core.replicas"' in line:
                entry = json.loads(line)
                router_lines.append(f"{entry['time']} {entry['message']}")
    time.sleep(11)  # an idle backend reports its statistics within 10 s
    on_primary, on_replica = transactions(url) - before[0], transactions(replica_url) - before[1]
    for label in samples:
        print(
            f"  {label:13} (gunicorn, {workers} workers): search {percentiles(samples[label])}; "
            f"autocomplete p95 {p95(auto[label]):6.2f} ms",
            flush=True,
        )
    print(f"  requests of the server with the replica, by where they read: {dict(reads)}")
    for line in router_lines[:20]:
        print(f"    router: {line}")
    print(f"  transactions during the run: primary {on_primary:,}, replica {on_replica:,} (both servers)")
    ratio = p95(samples["with replica"] + auto["with replica"]) / p95(samples["primary only"] + auto["primary only"])
    print(f"  p95 (search and autocomplete) with replica / primary only = {ratio:.2f} (goal <= 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1_000_000, help="generated names on top of the real ones")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=100,
        help="how many of the same queries the icontains baseline runs (a seeded sample; ~2 s each at 1M names)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default="gis_bench_search")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the benchmark database")
    parser.add_argument(
        "--replica-port", type=int, default=0, help="a local streaming replica: also compare through the read router"
    )
    parser.add_argument("--router-only", action="store_true", help="with --replica-port: only the router runs")
    args = parser.parse_args()

    url = bench_url(os.environ.get("DATABASE_URL", DEFAULT_URL), args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_portal.portal.settings")
    created = database_create(url, rebuild=args.rebuild)
    if created:
        print(f"building {args.database}: migrate, load_chongqing, {args.names:,} generated names ...", flush=True)
        start = time.perf_counter()
        manage("migrate", "-v", "0")
        manage("load_chongqing", "-v", "0")

    import django

    django.setup()
    from placenames.models import PlaceName

    if created:
        names_generate(args.names)
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    total = PlaceName.objects.count()
    real = PlaceName.objects.filter(rank__lt=4).count()
    queries = queries_make(args.queries)
    print(
        f"search benchmark: {total:,} names ({real:,} real, {total - real:,} generated) in {args.database}; "
        f"{len(queries)} mixed queries; {os.cpu_count()} CPUs"
    )
    if args.replica_port:
        bench_router(queries, workers=args.workers, url=url, replica_port=args.replica_port)
        if args.router_only:
            return
    search, autocomplete, empty = bench_http(queries, workers=args.workers)
    sample = random.Random(1).sample(queries, min(args.baseline_queries, len(queries)))
    baseline = bench_icontains(sample) if sample else [float("nan")]
    print(f"  HTTP /api/v1/placenames/search       (gunicorn, {args.workers} workers): {percentiles(search)}")
    print(f"  HTTP /api/v1/placenames/autocomplete (gunicorn, {args.workers} workers): {percentiles(autocomplete)}")
    print(f"  baseline: naive icontains (ORM, in-process):        {percentiles(baseline)}  ({len(sample)} queries)")
    print(
        f"  p95 ratio baseline / search = {p95(baseline) / p95(search):.0f}x; "
        f"median ratio = {statistics.median(baseline) / statistics.median(search):.0f}x; "
        f"{len(queries) - empty} of {len(queries)} searches answered at least one name"
    )
    print(
        f"  goals: search p95 <= 25 ms: {'met' if p95(search) <= 25 else 'NOT met'}; "
        f">= 20x baseline: {'met' if p95(baseline) >= 20 * p95(search) else 'NOT met'}; "
        f"autocomplete p95 <= 15 ms: {'met' if p95(autocomplete) <= 15 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
