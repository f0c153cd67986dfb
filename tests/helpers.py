"""Helpers shared by the tests: the API's error assertion, emptying this session's cache keys,
writing through a connection of one's own, waiting in a browser page for a condition, and finding a
script or stylesheet loaded from another host in a page."""

import re
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connections


def assert_error(response, status: int, code: str = "invalid_parameter") -> None:
    """The answer is the API's JSON error: the status, the code and a message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def cache_clear_own() -> None:
    """Delete this test session's keys from the shared Redis (``cache.clear()`` would flush the
    whole Redis database, other runs' keys included)."""
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000):
        client.delete(key)


def wait_until(page, expression: str, *, timeout_ms: int = 30_000) -> None:
    """Poll a JavaScript expression (or ``() => ...`` function) in ``page`` until it is truthy.
    ``page.wait_for_function`` compiles its predicate with eval inside the page once it has to poll,
    which the portal's Content-Security-Policy forbids; ``page.evaluate`` goes through DevTools."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out after {timeout_ms} ms waiting for {expression}"
        page.wait_for_timeout(100)


def committed(fn, *args, **kwargs):
    """Run ``fn`` in a thread of its own: a database connection of its own, in autocommit, so what
    it writes is committed at once and seen by servers, browsers and replicas outside the test's
    transaction. Its answer (or its exception) is handed back."""
    outcome = {}

    def run():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the caller
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# A script or stylesheet from another host (a CDN): the pages vendor theirs. Matched on the
# attribute, not on a word: a random CSP nonce once spelled "cdn".
EXTERNAL_ASSET = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE)
