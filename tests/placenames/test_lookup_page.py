"""The public look-up page in headless Chromium: type, pick a suggestion, see the place on the map."""

import pytest

from placenames.models import PlaceName

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_type_pick_suggestion_and_see_it_on_the_map(page, portal_server):
    external = []
    page.on("request", lambda r: not r.url.startswith((portal_server, "data:")) and external.append(r.url))
    page.goto(portal_server + "/placenames/")
    page.locator("#placename-q").press_sequentially("jiefang", delay=30)
    suggestion = page.locator("#placename-suggestions li").first
    suggestion.wait_for(timeout=10_000)
    assert suggestion.inner_text().startswith("解放碑街道（渝中区）")
    suggestion.click()
    page.wait_for_selector("#placename-map[data-selected='解放碑街道']", timeout=10_000)
    # The marker sits at the place's point, and the map is centred on it.
    place = PlaceName.objects.get(name="解放碑街道")
    center = page.evaluate("() => { const c = window.placenameMap.getCenter(); return [c.lng, c.lat]; }")
    assert center == pytest.approx([place.point.x, place.point.y], abs=1e-6)
    assert page.locator(".leaflet-marker-icon").count() == 1
    assert page.locator(".placename-tooltip").inner_text() == "解放碑街道"
    # Results carry the hierarchy, and the address is shareable.
    assert "重庆市 › 渝中区 › 解放碑街道" in page.locator("#placename-results li.selected").inner_text()
    assert page.url.endswith("?q=" + "%E8%A7%A3%E6%94%BE%E7%A2%91%E8%A1%97%E9%81%93")
    assert page.errors == []
    assert external == []


def test_shared_url_and_detail_page(page, portal_server):
    page.goto(portal_server + "/placenames/?q=沙平坝")
    page.wait_for_selector("#placename-results li", timeout=10_000)
    top3 = page.locator("#placename-results li .result-name").all_inner_texts()[:3]
    assert "沙坪坝区" in top3
    # A generated former name (the division history adds real ones, not marked synthetic).
    former = PlaceName.objects.filter(variants__kind="former", variants__is_synthetic=True).order_by("id").first()
    page.goto(f"{portal_server}/placenames/{former.id}/")
    assert page.locator("#place-name").inner_text().startswith(former.name)
    assert former.variants.get(kind="former", is_synthetic=True).name in page.locator("#former-names").inner_text()
    assert "示意数据" in page.locator("#former-names").inner_text()
    page.wait_for_selector(".leaflet-marker-icon", timeout=10_000)
    assert page.errors == []


def test_lookup_page_in_english(page, portal_server):
    page.goto(portal_server + "/placenames/?q=yuzhong")
    assert page.locator(".placename-panel h2").inner_text() == "标准地名查询"
    page.click("button[value='en']")
    page.wait_for_selector("#placename-results li", timeout=10_000)
    assert page.locator(".placename-panel h2").inner_text() == "Look up a standard place name"
    assert page.locator("#placename-results li .result-name").first.inner_text() == "渝中区"
    assert page.errors == []
