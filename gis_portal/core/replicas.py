"""Read replicas: the public's reads go to a streaming replica of the primary, writes always to the
primary.

``DATABASE_REPLICA_URLS`` (settings) gives the replicas the aliases ``replica1``, ``replica2``, ... in
``DATABASE_REPLICAS``. A request's reads may go to a replica only when ``ReadReplicaMiddleware``
allows it: a safe method (GET, HEAD, OPTIONS), no ``Authorization`` header (an API client may not
keep cookies, so it could not be pinned after its writes) and no pin cookie, which the middleware
sets on the answer to any unsafe request so that who just wrote reads the primary for
``READ_PRIMARY_AFTER_WRITE_SECONDS``. Everything else reads the primary: management commands,
shells, a request once it has written, and anything inside a transaction on the primary.

A replica is used only while its check passes: it answers, it is in recovery (a server that is not a
standby is never taken for one) and its replay lag is at most ``REPLICA_MAX_LAG_SECONDS``. The check
runs at most every ``REPLICA_CHECK_SECONDS`` in each process; a change of state is logged. A replica
whose connection fails between checks is skipped at once (its connection is checked before each
request's first read of it). A request reads one replica throughout, picked at random among the
usable ones at its first read, so its reads never go back in time as they could between two
replicas. A request's log line says which databases its reads went to (``reads``), so that an
operator can count what each replica serves. Replica connections are read-only sessions
(``default_transaction_read_only``), so even a misrouted write cannot land there.
"""

import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PIN_COOKIE = "read_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Lag: 0 while the replica has replayed all it received and its receiver is connected; otherwise the
# age of the last transaction it replayed (which grows while the primary commits and it does not).
CHECK_SQL = """
    SELECT pg_is_in_recovery() AS in_recovery,
           CASE WHEN NOT pg_is_in_recovery() THEN NULL
                WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                     AND EXISTS (SELECT FROM pg_stat_wal_receiver) THEN 0
                ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS lag_s
"""


@dataclass
class ReplicaState:
    ok: bool
    lag_s: float | None = None
    error: str | None = None
    checked_at: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict:
        answer: dict = {"ok": self.ok, "lag_s": None if self.lag_s is None else round(self.lag_s, 3)}
        if self.error:
            answer["error"] = self.error
        return answer


_states: dict[str, ReplicaState] = {}
_states_lock = threading.Lock()


@dataclass
class _Routing:
    """What the current request may do: read from replicas or not (a write turns it off)."""

    replicas: bool
    chosen: str | None = None  # one replica for the whole request: its reads see one point in time
    used: set[str] = field(default_factory=set)  # the databases its reads went to


_routing: contextvars.ContextVar[_Routing | None] = contextvars.ContextVar("replica_routing", default=None)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def check(alias: str) -> ReplicaState:
    """Check one replica now (and remember the answer): reachable, in recovery, lag within bounds."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(CHECK_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as exc:
        state = ReplicaState(ok=False, error=f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}")
    else:
        lag = None if lag is None else float(lag)
        if not in_recovery:
            state = ReplicaState(ok=False, error="not in recovery: a primary, not a replica; never used")
        elif lag is None or lag > settings.REPLICA_MAX_LAG_SECONDS:
            shown = "unknown" if lag is None else f"{lag:.1f} s"
            limit = settings.REPLICA_MAX_LAG_SECONDS
            state = ReplicaState(ok=False, lag_s=lag, error=f"replay lag {shown} > {limit} s")
        else:
            state = ReplicaState(ok=True, lag_s=lag)
    _remember(alias, state)
    return state


def _remember(alias: str, state: ReplicaState) -> None:
    with _states_lock:
        before = _states.get(alias)
        _states[alias] = state
    if before is None or before.ok != state.ok:
        if state.ok:
            logger.info("replica %s in use (lag %.1f s)", alias, state.lag_s or 0.0)
        else:
            logger.warning("replica %s skipped: %s", alias, state.error)


def state(alias: str) -> ReplicaState:
    """The replica's state, checked again when the last check is older than REPLICA_CHECK_SECONDS."""
    known = _states.get(alias)
    if known is None or time.monotonic() - known.checked_at >= settings.REPLICA_CHECK_SECONDS:
        return check(alias)
    return known


def _usable(alias: str) -> bool:
    if not state(alias).ok:
        return False
    db = connections[alias]
    try:
        db.close_if_health_check_failed()  # once a request: a connection to a replica that went away
        db.ensure_connection()
    except DatabaseError as exc:
        _remember(alias, ReplicaState(ok=False, error=f"{type(exc).__name__}: {str(exc).strip()[:200]}"))
        return False
    return True


def read_alias() -> str:
    """The database the current code should read from: a usable replica when the request allows
    it, else the primary."""
    routing = _routing.get()
    alias = DEFAULT_DB_ALIAS
    if routing is not None and routing.replicas and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        if routing.chosen is None:
            aliases = replica_aliases()
            random.shuffle(aliases)
            routing.chosen = next((candidate for candidate in aliases if _usable(candidate)), DEFAULT_DB_ALIAS)
        alias = routing.chosen
    if routing is not None:
        routing.used.add(alias)
    return alias


def wrote() -> None:
    """The current request wrote to the primary: the rest of it reads from there (what it wrote)."""
    routing = _routing.get()
    if routing is not None:
        routing.replicas = False


class ReplicaRouter:
    """Django's database router: reads as ``read_alias`` says, writes and migrations on the primary."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        wrote()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # every database holds the same rows

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


def replicas_allowed(request: HttpRequest) -> bool:
    return (
        bool(replica_aliases())
        and request.method in SAFE_METHODS
        and "HTTP_AUTHORIZATION" not in request.META
        and PIN_COOKIE not in request.COOKIES
    )


@contextmanager
def reading_from_replicas(allowed: bool = True):
    """Let the code inside read from replicas (as a public request does); the middleware's tool.
    It yields the set of databases the reads went to."""
    routing = _Routing(replicas=allowed)
    token = _routing.set(routing)
    try:
        yield routing.used
    finally:
        _routing.reset(token)


class ReadReplicaMiddleware:
    """Route the request's reads (see the module's docstring) and pin a client that wrote to the
    primary for READ_PRIMARY_AFTER_WRITE_SECONDS with a cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with reading_from_replicas(replicas_allowed(request)) as used:
            response = self.get_response(request)
        request.read_databases = sorted(used)  # for the request's log line
        if request.method not in SAFE_METHODS and replica_aliases():
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.READ_PRIMARY_AFTER_WRITE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


@contextmanager
def every_connection(wrapper: Callable):
    """``execute_wrapper`` on the primary and every replica (statement timeouts, request tags)."""
    with ExitStack() as stack:
        for alias in [DEFAULT_DB_ALIAS, *replica_aliases()]:
            stack.enter_context(connections[alias].execute_wrapper(wrapper))
        yield
