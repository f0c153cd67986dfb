"""The coverage page, signed in, runs suggestions as a job: it shows that the job waits for a
worker, then (a real worker started) its stages as progress, then the sites on the page."""

import pytest
from django.contrib.auth.models import User

from gis_portal.jobs.models import Job
from tests.helpers import committed, wait_until
from tests.security.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
USERNAME = "jobs-page-user"


def _make_user() -> None:
    _remove_user()  # a run stopped half-way may have left one
    User.objects.create_user(USERNAME, password=PASSWORD)


def _remove_user() -> None:
    Job.objects.filter(owner__username=USERNAME).delete()
    User.objects.filter(username=USERNAME).delete()


def test_the_page_starts_a_job_and_shows_its_progress_and_result(page, portal_server, start_worker):
    committed(_make_user)
    try:
        sign_in(page, portal_server, USERNAME)
        page.goto(portal_server + "/coverage/")
        page.wait_for_selector("#map[data-coverage='elder_station']", timeout=30_000)
        page.fill("#k", "3")
        page.click("#suggest")
        # No worker yet: the page says the job waits.
        wait_until(page, "document.getElementById('site-summary').textContent === '排队等待处理…'")
        (job,) = committed(lambda: list(Job.objects.filter(owner__username=USERNAME)))
        assert (job.kind, job.status, job.params["k"]) == ("facilities.suggest", "queued", 3)

        start_worker()
        page.wait_for_selector("#site-list[data-count]", timeout=90_000)
        assert page.locator("#site-list li").count() == 3
        assert page.locator("path.site-marker").count() == 3
        assert page.locator("#site-progress").is_hidden()
        done = committed(lambda: Job.objects.get(pk=job.pk))
        assert done.status == "succeeded" and done.attempts == 1
        names = [f["properties"]["at_name"] for f in done.result["features"]]
        items = page.locator("#site-list li").all_inner_texts()
        assert all(name in item for name, item in zip(names, items, strict=True))
    finally:
        committed(_remove_user)
