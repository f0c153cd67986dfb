"""Test set-up: one PostGIS test database for the session, loaded once with the Chongqing data
(the real import and the generator), and a live server plus headless Chromium for page tests.

Tests run in the ``db`` fixture's transaction, which rolls back, so the loaded data stays as it is.
The ``transactional_db`` fixture would truncate it: don't use it (or ``live_server``, which asks
for it); page tests use ``portal_server`` below instead.
"""

import os
import shutil
import uuid

import pytest
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.db import connection
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings

from tests.helpers import cache_clear_own

# Playwright's sync API keeps an event loop in the main thread; Django would then refuse the test's
# own (synchronous) database calls. Only the tests run this way.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session", autouse=True)
def _own_cache():
    """The tests use the machine's Redis like the service, in a database of their own (15) and under
    a key prefix of this session's own, so that neither a running portal nor another test run sees
    or clears their throttle counts (settings are loaded before this file: override them here)."""
    caches = {**settings.CACHES["default"], "LOCATION": TEST_REDIS_URL, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"}
    with override_settings(CACHES={"default": caches}):
        yield


# Test files that share one outside resource run in one pytest-xdist worker, one after another:
# the replica cluster (5433), which the replica tests stop and pause.
SHARED_RESOURCE_SCOPES = {"tests/scale/": "replica-cluster"}


def pytest_xdist_make_scheduler(config, log):
    """`make test` runs the suite in pytest-xdist workers, each with its own test database. A worker
    takes whole files (a file's module fixtures, such as a started server, are built once), and the
    files that share a cluster go to one worker. (Not ``--dist loadgroup``: pytest 9 ignores the
    node ids that xdist rewrites for it.)"""
    from xdist.scheduler import LoadFileScheduling

    class SharedResourceScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return next((scope for prefix, scope in SHARED_RESOURCE_SCOPES.items() if path.startswith(prefix)), path)

    return SharedResourceScheduling(config, log)


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(autouse=True)
def _fresh_cache(_own_cache):
    """Each test starts with none of this session's cache keys (throttles, tiles, slots)."""
    cache_clear_own()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_chongqing", verbosity=0)


@pytest.fixture(scope="session")
def _portal_server_thread(django_db_setup, django_db_blocker):
    server = LiveServerThread("127.0.0.1", StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://127.0.0.1:{server.port}"
    server.terminate()
    # Django keys connections by context variable, and Playwright's greenlets run the browser tests
    # in contexts of their own: a connection opened there is never closed by Django. End such
    # leftovers so that the test database can be dropped.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def portal_server(db, _portal_server_thread):
    """The portal served over HTTP from the test database (its thread has its own connection, so
    it sees the session's committed data, not the test's own uncommitted writes)."""
    return _portal_server_thread


@pytest.fixture(scope="session")
def chromium(_portal_server_thread):
    """Headless Chromium; it closes before the server stops, so the server's request threads
    close their database connections and the test database can be dropped."""
    executable = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh Chinese-language page that records console errors and page errors."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def api():
    """An anonymous DRF test client."""
    from rest_framework.test import APIClient

    return APIClient()
