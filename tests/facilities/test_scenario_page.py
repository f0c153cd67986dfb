"""The what-if panel of the coverage dashboard in headless Chromium, for a signed-in planner: sites
added by clicking the map, a facility picked to close, the numbers and the map change, the scenario
saved and opened again from its link. Nothing is written but the saved scenario."""

import pytest
from django.contrib.auth.models import Group, User

from facilities.models import Facility, Scenario
from gis_portal.core.roles import PLANNER, roles_ensure
from tests.helpers import committed
from tests.security.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PASSWORD = "hostile-pages-Pa55word"


def _make_planner() -> None:
    _remove_planner()  # a run stopped half-way may have left one
    roles_ensure()
    user = User.objects.create_user("pageplanner", password=PASSWORD)
    user.groups.add(Group.objects.get(name=PLANNER))


def _remove_planner() -> None:
    Scenario.objects.filter(owner__username="pageplanner").delete()
    User.objects.filter(username="pageplanner").delete()


@pytest.fixture
def planner_signed_in(page, portal_server):
    committed(_make_planner)
    try:
        sign_in(page, portal_server, "pageplanner")
        yield page
    finally:
        committed(_remove_planner)


def test_the_public_page_has_no_scenario_panel(page, portal_server):
    page.goto(portal_server + "/coverage/")
    page.wait_for_selector("#map[data-coverage='elder_station']", timeout=30_000)
    assert page.locator("#scenario").count() == 0


def test_a_planner_adds_a_site_closes_one_and_sees_the_change(planner_signed_in, portal_server):
    page = planner_signed_in
    facilities_before = committed(Facility.objects.count)
    page.goto(portal_server + "/coverage/")
    page.wait_for_selector("#map[data-coverage='elder_station']", timeout=30_000)
    # Add a site at the worst gap: click the map where its marker is.
    page.click("#scenario-add-mode")
    first_gap = page.locator("path.gap-marker").first
    first_gap.click(force=True)
    assert page.locator("#scenario-added li").count() == 1
    page.click("#scenario-add-mode")
    page.click("#scenario-facilities")
    page.wait_for_selector("#map[data-facilities]", timeout=30_000)
    assert int(page.get_attribute("#map", "data-facilities")) > 2000
    page.locator("path.scenario-facility").first.click(force=True)
    assert page.locator("#scenario-closed li").count() == 1
    page.click("#scenario-run")
    page.wait_for_selector("#map[data-scenario]", timeout=30_000)
    rows = page.locator("#scenario-table tbody tr")
    assert rows.count() == 4
    today, scenario = (int(rows.nth(0).locator("td").nth(i).inner_text().replace(",", "")) for i in (1, 2))
    change = int(page.get_attribute("#map", "data-scenario"))
    assert scenario - today == change
    newly_covered, newly_uncovered = (
        int(part.split()[0]) for part in page.locator("#scenario-summary").inner_text().split("·")
    )
    assert newly_covered >= 1  # the gap the site was added at, at least
    assert newly_covered - newly_uncovered == change
    assert committed(Facility.objects.count) == facilities_before  # nothing written

    page.fill("#scenario-name", "<b>一站一关</b>")
    page.click("#scenario-save")
    page.wait_for_selector("#scenario-link a", timeout=30_000)
    link = page.locator("#scenario-link a")
    assert link.inner_text() == "<b>一站一关</b>"  # as text, never as markup
    page.goto(portal_server + link.get_attribute("href"))
    page.wait_for_selector("#map[data-scenario]", timeout=30_000)
    assert int(page.get_attribute("#map", "data-scenario")) == change
    assert page.locator("#scenario-added li").count() == 1 and page.locator("#scenario-closed li").count() == 1
    assert page.input_value("#scenario-name") == "<b>一站一关</b>"
    assert page.errors == []
