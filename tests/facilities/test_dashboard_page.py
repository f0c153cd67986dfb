"""The coverage dashboard in headless Chromium: choropleth, cluster table, bar chart, gaps and
suggested sites, without any external request."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_dashboard_shows_coverage_and_suggests_sites(page, portal_server):
    external = []
    page.on("request", lambda r: not r.url.startswith((portal_server, "data:")) and external.append(r.url))
    page.goto(portal_server + "/coverage/")
    page.wait_for_selector("#map[data-coverage='elder_station']", timeout=30_000)
    assert "养老服务站" in page.locator("#category option:checked").inner_text()
    assert "GB 50180" in page.locator("#rule").inner_text()
    assert page.locator("#cluster-table tbody tr").count() == 3
    assert "主城都市区" in page.locator("#cluster-table").inner_text()
    assert page.locator("#district-chart svg rect").count() == 38  # every district has communities
    assert page.locator("path.gap-marker").count() == 300
    assert page.locator("#gap-list li").count() == 20
    fills = set(
        page.eval_on_selector_all(
            "#map path.leaflet-interactive:not(.gap-marker)", "els => els.map(e => e.getAttribute('fill'))"
        )
    )
    assert len(fills) >= 2  # districts differ in coverage

    page.fill("#k", "3")
    page.click("#suggest")
    page.wait_for_selector("#site-list[data-count]", timeout=60_000)
    assert page.locator("#site-list li").count() == 3
    assert page.locator("path.site-marker").count() == 3
    assert "示意数据" in page.locator(".synthetic-note").inner_text()

    page.select_option("#category", "funeral_home")
    page.wait_for_selector("#map[data-coverage='funeral_home']", timeout=30_000)
    rule = page.locator("#rule").inner_text()
    assert "presence: at least 1 per district" in rule and "每个区县至少一个殡仪馆" in rule
    assert 1 <= page.locator("#gap-list li").count() <= 5
    assert "category=funeral_home" in page.get_attribute("#report-link", "href")
    assert page.errors == []
    assert external == []
