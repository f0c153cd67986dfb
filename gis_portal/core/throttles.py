"""Budgets for expensive requests, counted in the cache every worker shares (Redis), so that one
client cannot hold the service: a rate per signed-in user or, for the public, per address, and a
cap on how many expensive requests run at once across all workers (a bulkhead), so that cheap
requests (look-up, locate, tiles) always find a free worker.

When the cache is down, rate budgets fail open: the request goes through (logged). The portal's
purpose is its public reads, and a cache outage must not become a portal outage; the database's
statement timeouts and the workers' count still bound what one client costs, and sign-in keeps its
lock-out, which is kept in the database (django-axes). The bulkhead falls back to one expensive
request at a time in each worker process instead of the shared count.

The client's address is the peer's unless the deployment says how many proxies stand in front
(``NUM_PROXIES``); a client-chosen ``X-Forwarded-For`` is never trusted on its own.
"""

import functools
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import nullcontext

from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from gis_portal.core.caching import CACHE_ERRORS, cache_down
from gis_portal.core.errors import ServiceBusy

logger = logging.getLogger(__name__)


class FailOpen:
    """A rate throttle that lets the request through when the cache cannot count it (see above)."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            cache_down(f"{type(self).__name__} lets requests through uncounted", exc)
            return True


class RoleRateThrottle(FailOpen, SimpleRateThrottle):
    """A rate per signed-in user (scope ``<scope>_user``) or per address for the public (scope
    ``<scope>_anon``); subclasses set ``scope``."""

    def __init__(self) -> None:  # the rate depends on the request; it is chosen in allow_request
        pass

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        who = "user" if request.user and request.user.is_authenticated else "anon"
        self.rate = api_settings.DEFAULT_THROTTLE_RATES[f"{self.scope}_{who}"]  # read now: settings can change
        self.num_requests, self.duration = self.parse_rate(self.rate)
        allowed = super().allow_request(request, view)
        if not allowed:
            logger.warning("throttled %s %s (%s, %s)", request.method, request.path, self.scope, self.key)
        return allowed


class OgcReadThrottle(RoleRateThrottle):
    """OGC API – Features: GIS clients page through whole layers, many requests a minute."""

    scope = "ogc"


class HeavyReadThrottle(RoleRateThrottle):
    """Exports, reports and suggested sites: seconds of database and solver time per request."""

    scope = "heavy"


class HeavyRequestSlot:
    """A place among the ``HEAVY_REQUESTS_AT_ONCE`` expensive requests the service runs at a time,
    across every worker: ``with HeavyRequestSlot():`` or BusyError. A slot left by a killed worker
    expires after ``HEAVY_REQUEST_SLOT_SECONDS``. Without Redis (a cache with no shared client)
    there is no bulkhead."""

    KEY = "heavy-requests"
    LOCAL = threading.BoundedSemaphore(1)  # this process's one slot while the cache is down

    def __enter__(self) -> "HeavyRequestSlot":
        self.client = None
        self.local = False
        if not hasattr(getattr(cache, "_cache", None), "get_client"):
            return self
        try:
            return self._enter_shared()
        except CACHE_ERRORS as exc:
            cache_down("expensive requests limited to one at a time in each worker", exc)
        if not self.LOCAL.acquire(blocking=False):
            raise ServiceBusy("an expensive request is running; try again in a few seconds") from None
        self.local = True
        return self

    def _enter_shared(self) -> "HeavyRequestSlot":
        limit = settings.HEAVY_REQUESTS_AT_ONCE
        client = cache._cache.get_client(self.KEY, write=True)  # the raw Redis client: a sorted set of slots
        key = cache.make_and_validate_key(self.KEY)
        now = _redis_time(client)
        self.token = uuid.uuid4().hex
        pipe = client.pipeline()
        pipe.zremrangebyscore(key, 0, now - settings.HEAVY_REQUEST_SLOT_SECONDS)
        pipe.zadd(key, {self.token: now})
        pipe.zrank(key, self.token)
        pipe.expire(key, settings.HEAVY_REQUEST_SLOT_SECONDS)
        rank = pipe.execute()[2]
        if rank is None or rank >= limit:
            client.zrem(key, self.token)
            logger.warning("busy: %d expensive requests already running", limit)
            raise ServiceBusy(f"{limit} expensive requests are running; try again in a few seconds")
        self.client, self.key = client, key
        return self

    def __exit__(self, *exc) -> None:
        if self.local:
            self.local = False
            self.LOCAL.release()
        if self.client is not None:
            client, self.client = self.client, None
            try:
                client.zrem(self.key, self.token)
            except CACHE_ERRORS as exc:  # the slot expires by itself
                cache_down("a slot left to expire", exc)


def heavy_slot_if(condition: bool):
    """A HeavyRequestSlot when ``condition`` holds (e.g. the request is an export), else nothing."""
    return HeavyRequestSlot() if condition else nullcontext()


def heavy_request(method):
    """Run a view method inside a HeavyRequestSlot; a streamed answer keeps its slot until it has
    been sent (or the client went away)."""

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        return run_in_heavy_slot(method, view, request, *args, **kwargs)

    return wrapper


def run_in_heavy_slot(call, *args, **kwargs):
    """``call(*args, **kwargs)`` (a view answering a request) inside a HeavyRequestSlot, which a
    streamed answer keeps until it has been sent."""
    slot = HeavyRequestSlot().__enter__()
    try:
        response = call(*args, **kwargs)
    except BaseException:
        slot.__exit__()
        raise
    if getattr(response, "streaming", False):
        response.streaming_content = _SlotReleasingChunks(response.streaming_content, slot)
    else:
        slot.__exit__()
    return response


class _SlotReleasingChunks:
    """A streamed body that gives its slot back when it ends or is closed (the server closes the
    response when the client goes away, even before the first chunk)."""

    def __init__(self, chunks: Iterator[bytes], slot: HeavyRequestSlot) -> None:
        self.chunks, self.slot = chunks, slot

    def __iter__(self) -> "_SlotReleasingChunks":
        return self

    def __next__(self) -> bytes:
        try:
            return next(self.chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.slot.__exit__()


def _redis_time(client) -> float:
    seconds, microseconds = client.time()
    return seconds + microseconds / 1e6
