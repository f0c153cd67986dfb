"""Helpers shared by the tests: the API's error assertion, and emptying this session's cache keys."""

from django.conf import settings
from django.core.cache import cache


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
