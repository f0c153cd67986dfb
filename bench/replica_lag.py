"""How long a committed write takes to become visible on a streaming replica.

Commits one row at a time on the primary (a probe table of its own, dropped at the end) and polls
the replica until the row is there, ``--samples`` times; prints the delay's percentiles. The replica
is a local one by default (``scripts/replica.sh start``: port 5433), so this is the replication
machinery's own delay (WAL write, send, replay), without a network between data centres.

Run:  .venv/bin/python bench/replica_lag.py [--database NAME] [--replica-port 5433] [--samples 300]
"""

import argparse
import os
import time
import urllib.parse

import dj_database_url
import psycopg2
from common import percentiles

DEFAULT_URL = "postgis://postgres@127.0.0.1:5432/gis_portal"


def connect(url: str):
    config = dj_database_url.parse(url)
    db = psycopg2.connect(
        dbname=config["NAME"],
        user=config["USER"],
        host=config["HOST"],
        port=config["PORT"],
        password=config["PASSWORD"],
    )
    db.autocommit = True
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name (default: DATABASE_URL's)")
    parser.add_argument("--replica-port", type=int, default=5433)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    parts = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    if args.database:
        parts = parts._replace(path=f"/{args.database}")
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    primary_url = urllib.parse.urlunsplit(parts)
    replica_url = urllib.parse.urlunsplit(parts._replace(netloc=f"{user}{parts.hostname}:{args.replica_port}"))
    primary, replica = connect(primary_url), connect(replica_url)
    with primary.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_replica_probe (id bigserial PRIMARY KEY, at timestamptz)")
    try:
        with replica.cursor() as cursor:  # the table itself has to arrive first
            while True:
                cursor.execute("SELECT to_regclass('bench_replica_probe') IS NOT NULL")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.01)
        delays = []
        with primary.cursor() as write, replica.cursor() as read:
            for _ in range(args.samples):
                write.execute("INSERT INTO bench_replica_probe (at) VALUES (now()) RETURNING id")
                (row_id,) = write.fetchone()
                committed = time.perf_counter()
                while True:
                    read.execute("SELECT 1 FROM bench_replica_probe WHERE id = %s", [row_id])
                    if read.fetchone():
                        break
                delays.append(time.perf_counter() - committed)
                time.sleep(0.01)
    finally:
        with primary.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_replica_probe")
    print(
        f"replica visibility after commit ({len(delays)} single-row commits, replica on port {args.replica_port}): "
        f"{percentiles(delays)}   max {max(delays) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
