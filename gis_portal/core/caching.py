"""The shared cache (Redis) as an aid, never a dependency of a public read: when it is down, what
it would have answered is computed (tiles), counted budgets let requests through (throttles fail
open, see ``gis_portal.core.throttles``), and readiness says so (``/readyz`` answers 503). Its
socket timeouts (settings ``CACHES``) keep a hung Redis from holding a request."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What the cache raises when Redis is down, refuses or times out.
CACHE_ERRORS = (RedisError, OSError)
# Say that the cache is down at most this often per process (every request would otherwise).
WARN_EVERY_S = 10.0
_warned_at = {"at": float("-inf")}


def cache_down(what: str, exc: BaseException) -> None:
    """Log (at most every ``WARN_EVERY_S``) that the cache failed and what goes on without it."""
    now = time.monotonic()
    if now - _warned_at["at"] >= WARN_EVERY_S:
        _warned_at["at"] = now
        logger.warning("cache unavailable (%s: %s); %s", type(exc).__name__, str(exc)[:200], what)


def cached(key: str, timeout: int, compute: Callable[[], Any]) -> Any:
    """The cached value of ``key``, or ``compute()`` kept for ``timeout`` seconds; with the cache
    down, ``compute()`` every time."""
    try:
        value = cache.get(key)
    except CACHE_ERRORS as exc:
        cache_down("computing without it", exc)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout)
        except CACHE_ERRORS as exc:
            cache_down("computing without it", exc)
    return value
