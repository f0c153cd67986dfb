"""The planners' map in headless Chromium: every layer draws, the cluster filter limits them, search
flies to a name, a click locates, and the URL hash carries the view. Screenshots go to
tests/artifacts/ (gitignored)."""

from pathlib import Path

import pytest

from tests.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ALL_LAYERS = "districts,townships,villages,placenames,facilities,lines,markers,gaps"
TILE_KEYS = ["townships", "villages", "placenames", "facilities", "lines", "markers"]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-{name}.png"))


def _settled(page) -> None:
    """Wait until the districts are drawn and the number of drawn paths stops changing
    (GridLayer.isLoading() can stay true after a redraw, so it is not used)."""
    page.wait_for_selector("#map[data-loaded]", timeout=30_000)
    last, stable = -1, 0
    for _ in range(100):
        page.wait_for_timeout(300)
        count = page.locator(".leaflet-map-pane path").count()
        stable = stable + 1 if count == last else 0
        last = count
        if stable >= 2:
            return
    raise AssertionError("the map did not settle")


def _count(page, key: str) -> int:
    return page.locator(f".leaflet-{key}-pane path").count()


def _paths(page, key: str) -> list[dict]:
    return page.eval_on_selector_all(
        f".leaflet-{key}-pane path",
        "els => els.map(e => ({fill: e.getAttribute('fill'), stroke: e.getAttribute('stroke')}))",
    )


def test_every_layer_shows_features(page, portal_server):
    # Zoom 13 over 渝中区/江北区: every tile layer is past its minimum zoom.
    page.goto(f"{portal_server}/#map=13/29.5600/106.5600&layers={ALL_LAYERS}&gap=elder_station")
    _settled(page)
    page.wait_for_selector("#map[data-gaps]", timeout=30_000)
    counts = {key: _count(page, key) for key in TILE_KEYS}
    assert all(n > 0 for n in counts.values()), counts
    assert int(page.get_attribute("#map", "data-gaps")) > 0
    assert int(page.get_attribute("#map", "data-loaded")) == 38
    # Facilities are coloured by category: more than one category colour is on screen.
    facility_fills = {p["fill"] for p in _paths(page, "facilities")}
    # About half of the township lines are overdue (never inspected or not within 5 years): haloed.
    assert page.locator(".leaflet-lines-pane path.overdue").count() > 0
    assert len(facility_fills) >= 2, facility_fills
    # One legend section per visible layer, synthetic data named in it.
    sections = page.eval_on_selector_all(".legend section", "els => els.map(e => e.dataset.legend)")
    assert sections == ALL_LAYERS.split(",")
    assert "示意" in page.locator(".legend").inner_text()
    _shot(page, "all-layers")
    # Gaps of another category: 5 funeral-home demand points are uncovered in the test data.
    gaps_stations = int(page.get_attribute("#map", "data-gaps"))
    page.select_option("#gap-category", "funeral_home")
    wait_until(page, f"() => document.getElementById('map').dataset.gaps !== '{gaps_stations}'", timeout_ms=15_000)
    assert 0 < int(page.get_attribute("#map", "data-gaps")) <= 5
    assert "gap=funeral_home" in page.url
    # Only categories with an active coverage standard are offered.
    options = page.eval_on_selector_all("#gap-category option", "els => els.map(e => e.value)")
    assert "elder_station" in options and "columbarium" not in options
    assert page.errors == []


def test_feature_click_shows_attributes_and_link(page, portal_server):
    page.goto(f"{portal_server}/#map=14/29.5575/106.5767&layers=placenames")
    _settled(page)
    assert _count(page, "placenames") > 0
    box = page.locator(".leaflet-placenames-pane path").nth(_count(page, "placenames") // 2).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup .feature-popup")
    popup.wait_for(timeout=5_000)
    href = popup.locator("a.feature-link").get_attribute("href")
    assert href.startswith("/placenames/") and href.rstrip("/").split("/")[-1].isdigit()
    assert "feature_class" in popup.inner_text()
    assert page.errors == []


def test_cluster_filter_limits_every_layer(page, portal_server):
    page.goto(f"{portal_server}/#map=8/30.0000/107.8000&layers=districts,townships,lines")
    _settled(page)
    assert int(page.get_attribute("#map", "data-loaded")) == 38
    townships_all = _count(page, "townships")
    assert townships_all > 0
    page.select_option("#cluster-filter", "se_wuling")
    _settled(page)
    # 渝东南武陵山区城镇群: 石柱, 秀山, 酉阳, 彭水, 武隆 and 黔江 — 6 districts drawn, in its colour only.
    assert int(page.get_attribute("#map", "data-loaded")) == 6
    fills = set(page.eval_on_selector_all(".leaflet-overlay-pane path", "els => els.map(e => e.getAttribute('fill'))"))
    assert fills == {"#7570b3"}
    page.wait_for_timeout(500)
    _settled(page)
    assert 0 < _count(page, "townships") < townships_all
    assert "cluster=se_wuling" in page.url
    assert "渝东南武陵山区城镇群" in page.locator(".legend").inner_text()
    assert "主城都市区" not in page.locator(".legend").inner_text()
    _shot(page, "cluster-filter")
    assert page.errors == []


def test_search_flies_to_jiefangbei(page, portal_server):
    page.goto(f"{portal_server}/#layers=districts")
    _settled(page)
    page.fill("#search-input", "解放碑")
    option = page.locator("#search-results li[role=option]").first
    option.wait_for(timeout=10_000)
    assert option.inner_text().startswith("解放碑街道")
    option.click()
    page.wait_for_selector("#map[data-flown-to='解放碑街道']", timeout=15_000)
    centre = page.evaluate("() => { const m = portalMap, c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }")
    # The map is centred on the name's point (GeoJSON of /api/v1/placenames/<id>), in 渝中区.
    point = page.evaluate(
        """async () => { const r = await fetch('/api/v1/placenames/autocomplete?q=解放碑街道&limit=1');
        const id = (await r.json())[0].id;
        return (await (await fetch('/api/v1/placenames/' + id)).json()).geometry.coordinates; }"""
    )
    assert abs(centre[0] - point[1]) < 1e-4 and abs(centre[1] - point[0]) < 1e-4 and centre[2] == 14
    assert 29.52 < centre[0] < 29.58 and 106.49 < centre[1] < 106.60
    assert "解放碑街道" in page.locator(".leaflet-popup").inner_text()
    _shot(page, "search")
    assert page.errors == []


def test_click_locates(page, portal_server):
    page.goto(f"{portal_server}/#map=13/29.5575/106.5767&layers=districts")
    _settled(page)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#locate-result dd[data-level='township']", timeout=10_000)
    assert "渝中区" in page.locator("#locate-result dd[data-level='district']").inner_text()
    assert "示意数据" in page.locator(".leaflet-popup dd[data-level='township']").inner_text()
    assert page.errors == []


def test_url_round_trips_the_state(page, portal_server, chromium):
    page.goto(f"{portal_server}/#layers=districts")
    _settled(page)
    page.evaluate("() => window.portalMap.setView([29.6, 106.5], 11)")
    # Switch the facilities layer on through the layer control, and filter to the urban core.
    page.locator(".leaflet-control-layers label:has(span[data-layer='facilities']) input").check()
    page.select_option("#cluster-filter", "urban_core")
    _settled(page)  # the filter fits the map to the cluster first
    page.evaluate("() => window.portalMap.setView([29.6, 106.5], 11)")
    _settled(page)
    url = page.url
    assert "map=11/29.60000/106.50000" in url and "layers=districts,facilities" in url and "cluster=urban_core" in url

    other = chromium.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768}).new_page()  # a tablet
    errors = []
    other.on("console", lambda m: m.type == "error" and errors.append(m.text))
    other.on("pageerror", lambda e: errors.append(str(e)))
    other.goto(url)
    _settled(other)
    restored = other.evaluate(
        """() => { const m = window.portalMap, c = m.getCenter();
        return {lat: c.lat, lng: c.lng, zoom: m.getZoom(),
                layers: Object.keys(window.portalLayers).filter(k => m.hasLayer(window.portalLayers[k])).sort()}; }"""
    )
    assert restored["zoom"] == 11 and abs(restored["lat"] - 29.6) < 1e-4 and abs(restored["lng"] - 106.5) < 1e-4
    assert restored["layers"] == ["districts", "facilities"]
    assert other.input_value("#cluster-filter") == "urban_core"
    assert _count(other, "facilities") > 0
    _shot(other, "restored-tablet")
    other.context.close()
    assert errors == [] and page.errors == []
