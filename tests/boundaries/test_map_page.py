"""The first page in a real headless Chromium: districts drawn by cluster, hover, click to locate."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_map_shows_districts_and_locates_a_click(page, portal_server):
    external = []
    page.on("request", lambda r: not r.url.startswith((portal_server, "data:")) and external.append(r.url))
    page.goto(portal_server + "/#layers=districts")  # districts only: tile layers draw paths too
    page.wait_for_selector("#map[data-loaded='38']", timeout=30_000)
    assert page.locator("path.leaflet-interactive").count() == 38
    legend = page.locator(".legend").inner_text()
    assert "主城都市区" in legend and "渝东北三峡库区城镇群" in legend and "渝东南武陵山区城镇群" in legend
    # The three clusters are drawn in their three colours.
    fills = set(page.eval_on_selector_all("path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))"))
    assert fills == {"#d95f02", "#1b9e77", "#7570b3"}

    # Click 解放碑 (106.5767, 29.5575): the panel shows what /api/v1/locate says.
    page.evaluate("""() => {
        const map = window.portalMap;
        map.setView([29.5575, 106.5767], 13);
    }""")
    page.wait_for_timeout(300)
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".district-tooltip")
    tooltip.wait_for(timeout=5_000)
    assert tooltip.inner_text() == "渝中区"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#locate-result dd[data-level='district']", timeout=10_000)
    assert "渝中区" in page.locator("#locate-result dd[data-level='district']").inner_text()
    assert "重庆市" in page.locator("#locate-result").inner_text()
    assert "示意数据" in page.locator("#locate-result dd[data-level='township']").inner_text()
    assert page.errors == []
    assert external == []  # no CDN, no basemap by default


def test_english_switch(page, portal_server):
    page.goto(portal_server + "/")
    assert "重庆市民政地理信息平台" in page.locator(".brand").inner_text()
    page.click("button[value='en']")
    page.wait_for_selector("#map[data-loaded='38']", timeout=30_000)
    assert "Chongqing civil-affairs GIS portal" in page.locator(".brand").inner_text()
    assert "Urban core" in page.locator(".legend").inner_text()
    assert "Districts by cluster" in page.locator(".leaflet-control-layers").inner_text()
    assert "Find a place name" in page.locator(".panel").inner_text()
    assert page.errors == []
