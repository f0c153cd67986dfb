"""Load: mixed public traffic from locust (headless, in this process) against the portal as `make run`
serves it (gunicorn with gunicorn.conf.py) over this environment's loaded database, on loopback.

After a warm-up (30 clients without pauses for WARMUP_S, 15 s, not counted: every worker has loaded
what it loads once and served every kind of request), three phases in one run, each with its own statistics:
1. baseline: one client, no pause between requests (BASELINE_S, 20 s): each endpoint's latency alone;
2. load: 50 users of mixed public traffic, each pausing 1-3 s between requests (a person at a map),
   for 60 s: p50 and p95 per endpoint, errors, requests/s, and the workers' memory from start
   to end (RSS and USS; the goal is judged on the workers that served the warm-up: a worker
   restarted by max_requests since starts with its pages shared with the master, and its RSS and
   USS grow as it first runs each kind of request, which is warming up, not memory creeping);
3. saturation: the same 50 users with no pause (SATURATION_S, 20 s): the requests/s the server
   gives when every worker is busy.
The mix is what the map and the look-up page ask for: search, autocomplete, locate, vector tiles,
layers (divisions, lines, facilities, markers), coverage, page loads. Points, names and tiles are
drawn (seeded) from the region's own villages, read once through the API.

Goals (issue 16): no error (any non-2xx), each endpoint's p95 under load within 5x its baseline
p95, worker memory within +20% from start to end of the load phase. The exit status is 1 when a
goal is missed. The client shares the machine's cores with the server: the figures are a floor.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60]
"""

import gevent.monkey  # first: locust's client is gevent's, and patches sockets before anything opens one

gevent.monkey.patch_all()

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402
from locust import FastHttpUser, between, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WARMUP_S = 15
BASELINE_S = 20
SATURATION_S = 20
LAYERS = ["townships", "villages", "placenames", "facilities", "boundary-lines", "markers"]
CATEGORIES = ["elder_station", "elder_centre", "funeral_home", "cemetery", "service_centre"]
PINYIN = ["jiefangbei", "shapingba", "yuzhong", "wanzhou", "fuling", "ciqikou", "jiangbei", "nanan", "qijiang"]
SAMPLE = {"points": [], "names": []}  # filled from the API before the users start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


class PublicUser(FastHttpUser):
    """One member of the public or a planner at the map: what the pages ask the server for."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.rng = random.Random(id(self))

    def _point(self) -> tuple[float, float]:
        return self.rng.choice(SAMPLE["points"])

    @task(5)
    def search(self) -> None:
        name = self.rng.choice(SAMPLE["names"])
        q = self.rng.choice([name, name[:2], self.rng.choice(PINYIN)])
        self.client.get("/api/v1/placenames/search", params={"q": q, "limit": 10}, name="search")

    @task(5)
    def autocomplete(self) -> None:
        name = self.rng.choice(SAMPLE["names"])
        self.client.get("/api/v1/placenames/autocomplete", params={"q": name[:2]}, name="autocomplete")

    @task(5)
    def locate(self) -> None:
        lon, lat = self._point()
        self.client.get("/api/v1/locate", params={"lon": f"{lon:.5f}", "lat": f"{lat:.5f}"}, name="locate")

    @task(8)
    def tiles(self) -> None:
        lon, lat = self._point()
        z = self.rng.randint(8, 14)
        x, y = tile_of(lon, lat, z)
        self.client.get(f"/tiles/{self.rng.choice(LAYERS)}/{z}/{x}/{y}.pbf", name="tiles")

    @task(1)
    def layers(self) -> None:
        path, params = self.rng.choice(
            [
                ("/api/v1/divisions", {"level": "district", "simplify": 500}),
                ("/api/v1/boundary-lines", {"level": "county", "simplify": 100}),
                ("/api/v1/facilities", {"category": self.rng.choice(CATEGORIES), "page_size": 500}),
                ("/api/v1/markers", {"page_size": 500}),
            ]
        )
        self.client.get(path, params=params, name="layers")

    @task(1)
    def coverage(self) -> None:
        params = {"category": self.rng.choice(CATEGORIES), "group_by": self.rng.choice(["district", "cluster"])}
        self.client.get("/api/v1/coverage", params=params, name="coverage")

    @task(2)
    def pages(self) -> None:
        path, params = self.rng.choice(
            [
                ("/", {}),
                ("/placenames/", {"q": self.rng.choice(SAMPLE["names"])}),
                ("/inspections/", {}),
                ("/coverage/", {}),
            ]
        )
        self.client.get(path, params=params, name="pages")


class BaselineUser(PublicUser):
    wait_time = constant(0)


def sample_region(url: str) -> None:
    """Villages and communities (points and names) of the loaded region, through the API."""
    rng = random.Random(20190101)
    features = []
    for page in (1, 2, 3):
        answer = requests.get(
            f"{url}/api/v1/divisions", params={"level": "village", "page_size": 2000, "page": page}, timeout=60
        )
        answer.raise_for_status()
        features += answer.json()["features"]
    points = [f for f in features if f["geometry"] and f["geometry"]["type"] == "Point"]
    chosen = rng.sample(points, min(1000, len(points)))
    SAMPLE["points"] = [tuple(f["geometry"]["coordinates"]) for f in chosen]
    SAMPLE["names"] = [f["properties"]["name"] for f in chosen]


def run_phase(url: str, user_class: type, users: int, seconds: float, *, every_s: float = 0, probe=None):
    """Run ``users`` for ``seconds``; call ``probe()`` every ``every_s`` seconds meanwhile."""
    user_class.host = url
    env = Environment(user_classes=[user_class], host=url)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        gevent.sleep(min(left, every_s or left))
        if probe and time.monotonic() < end - 1:
            probe()
    runner.quit()
    return env.stats


def workers_memory(master: psutil.Process) -> dict[int, tuple[int, int]]:
    """Each worker's (RSS, USS). RSS also counts the pages of shared libraries and of the master a
    worker has touched since it was forked, so a worker restarted by max_requests shows RSS growing
    as it first runs each kind of request; USS, the memory only it holds, is what a leak would grow."""
    answer = {}
    for child in master.children():
        info = child.memory_full_info()
        answer[child.pid] = (info.rss, info.uss)
    return answer


def report(title: str, stats, baseline=None) -> list[str]:
    """Print one phase's table; return the goals it misses."""
    missed = []
    total = stats.total
    print(f"\n{title}: {total.num_requests:,} requests, {total.num_failures} errors, {total.total_rps:.1f} requests/s")
    print(f"  {'endpoint':<14}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}" +
          ("  p95 / baseline p95" if baseline else ""))  # fmt: skip
    for name in ["search", "autocomplete", "locate", "tiles", "layers", "coverage", "pages"]:
        entry = stats.entries.get((name, "GET"))
        if entry is None or not entry.num_requests:
            continue
        p50, p95 = entry.get_response_time_percentile(0.5), entry.get_response_time_percentile(0.95)
        line = f"  {name:<14}{entry.num_requests:>9,}{entry.num_failures:>8}{p50:>9.0f}{p95:>9.0f}"
        line += f"{entry.max_response_time:>9.0f}"
        if baseline:
            base = baseline.entries.get((name, "GET"))
            base_p95 = base.get_response_time_percentile(0.95) if base and base.num_requests else None
            if base_p95:
                ratio = p95 / base_p95
                line += f"  {ratio:5.1f}x (baseline {base_p95:.0f} ms)"
                if ratio > 5:
                    missed.append(f"{name}: p95 {p95:.0f} ms is {ratio:.1f}x the baseline's {base_p95:.0f} ms")
        print(line)
    for error in stats.errors.values():
        print(f"  error x{error.occurrences}: {error.method} {error.name}: {str(error.error)[:160]}")
    if total.num_failures:
        missed.append(f"{title}: {total.num_failures} errors")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    port = free_port()
    env = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": f"bench-load-{port}",  # its own throttle counts and tiles in the shared Redis
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gis_portal.portal.wsgi", "--config", "gunicorn.conf.py",
         "--no-control-socket"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        started, ready = time.monotonic(), None
        while True:
            try:
                ready = requests.get(f"{url}/readyz", timeout=30)
                if ready.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() - started > 90:
                why = ready.text if ready is not None else "no answer"
                print(f"gunicorn did not come up ready ({why}): is the database loaded (make run)?", file=sys.stderr)
                return 1
            time.sleep(0.2)
        master = psutil.Process(server.pid)
        print(f"gunicorn (gunicorn.conf.py): {len(master.children())} workers, up and ready in "
              f"{time.monotonic() - started:.1f} s; {os.cpu_count()} cores shared with this client")  # fmt: skip
        sample_region(url)
        run_phase(url, BaselineUser, 30, WARMUP_S)
        warmed_at = time.time()  # a worker forked after this (restarted by max_requests) starts cold

        baseline = run_phase(url, BaselineUser, 1, BASELINE_S)
        missed = report(f"baseline, 1 client without pauses, {BASELINE_S} s", baseline)

        memory_start = workers_memory(master)
        series = [memory_start]
        load = run_phase(
            url, PublicUser, args.users, args.seconds, every_s=15, probe=lambda: series.append(workers_memory(master))
        )
        memory_end = workers_memory(master)
        series.append(memory_end)
        for pid in memory_start:
            print(
                f"  worker {pid} RSS / USS every 15 s, MiB: "
                + " ".join("{:.0f}/{:.0f}".format(*(m / 2**20 for m in point.get(pid, (0, 0)))) for point in series)
            )
        missed += report(f"load, {args.users} users pausing 1-3 s, {args.seconds:.0f} s", load, baseline)
        kept = set(memory_start) & set(memory_end)
        forked = {child.pid: child.create_time() for child in master.children()}
        warm = {p for p in kept if forked.get(p, warmed_at) < warmed_at}
        gone = len(memory_start) - len(kept)
        restarted = f"; {gone} restarted by max_requests during the phase" if gone else ""
        for index, kind in ((0, "RSS"), (1, "USS")):
            start_mb = sum(m[index] for m in memory_start.values()) / 2**20
            end_mb = sum(m[index] for m in memory_end.values()) / 2**20
            print(f"  workers' memory ({kind}): {start_mb:.0f} MiB at the start, {end_mb:.0f} MiB at the end"
                  f"{restarted}")  # fmt: skip
        # The goal: no warm worker grows (RSS) by more than 20%. A worker forked after the warm-up (a
        # restart by max_requests) is shown apart: it starts with its pages shared with the master and
        # grows as it first runs each kind of request, which is not memory creeping.
        growth = {p: memory_end[p][0] / memory_start[p][0] - 1 for p in kept}
        worst = max((growth[p] for p in warm), default=0.0)
        print(f"  the most a warm worker grew (RSS): {worst:+.1%} ({len(warm)} warm workers)")
        for pid in sorted(kept - warm):
            print(f"  worker {pid}, forked after the warm-up, grew (RSS) {growth[pid]:+.1%} while warming up")
        if worst > 0.20:
            missed.append(f"a warm worker's memory grew {worst:+.1%}")

        saturation = run_phase(url, BaselineUser, args.users, SATURATION_S)
        missed += report(f"saturation, {args.users} users without pauses, {SATURATION_S} s", saturation)
        print(f"\nrequests/s at saturation: {saturation.total.total_rps:.1f}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    print("\n" + ("goals met: no error, p95 under load within 5x, memory within +20%" if not missed else
                  "goals missed:\n  " + "\n  ".join(missed)))  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
