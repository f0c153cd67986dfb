"""Stored XSS (issue 11, finding 1): text from the database and from uploads, carrying
``<img src=x onerror=…>`` and ``<script>…</script>`` payloads, is shown as text on every page that
puts it into a map tooltip, popup, list or table, and runs nothing.

Each test runs twice: as served (with the Content-Security-Policy) and with the header taken off
the documents by the browser's router, so that it is the pages' own handling of text, not only the
policy, that keeps the payloads inert. Every tooltip and popup is opened by hovering or clicking
where its feature is drawn. After each page: ``window.__xss`` is unset, no dialog opened, no ``img``
or script element came from a payload, no console error or page error, no CSP violation.
"""

import pytest

from tests.helpers import wait_until

from .conftest import IMG, JIEFANGBEI, LINE, SCRIPT, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
INJECTED = """() => ({
  xss: typeof window.__xss,
  imgs: [...document.querySelectorAll("img")].filter((i) => i.getAttribute("src") === "x").length,
  scripts: [...document.querySelectorAll("script")].filter(
    (s) => s.type !== "application/json" && s.textContent.includes("__xss")).length,
  violations: window.__cspViolations || [],
})"""


@pytest.fixture(params=["csp", "no-csp"])
def watched(request, page, portal_server, hostile):
    """The ``page``, recording dialogs and CSP violations; for ``no-csp`` the documents arrive
    without their Content-Security-Policy header."""
    page.dialogs = []
    page.documents = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "response",
        lambda r: r.request.resource_type == "document" and page.documents.append(r.headers),
    )
    page.add_init_script(WATCH)
    page.csp = request.param == "csp"
    if not page.csp:

        def strip(route):
            if route.request.resource_type != "document":
                route.fallback()
                return
            response = route.fetch(max_redirects=0)
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
            route.fulfill(response=response, headers=headers)

        page.route("**/*", strip)
    return page


def assert_not_run(page) -> None:
    page.wait_for_timeout(150)  # an <img onerror> fires once the image has failed to load
    assert page.evaluate("typeof window.__xss") == "undefined", "a payload ran"


def assert_inert(page) -> None:
    """Nothing from a payload ran or became an element, and the page had no error."""
    state = page.evaluate(INJECTED)
    assert state["xss"] == "undefined", "a payload ran"
    assert state["imgs"] == 0 and state["scripts"] == 0, state
    assert page.dialogs == []
    assert state["violations"] == [], state["violations"]
    assert page.errors == []
    assert page.documents, "no document was loaded"
    for headers in page.documents:
        assert ("content-security-policy" in headers) == page.csp


def screen_point(page, map_expr: str, lat: float, lng: float) -> tuple[float, float]:
    """Where a position is drawn on the map ``map_expr``, in page coordinates."""
    script = f"""([lat, lng]) => {{
      const map = {map_expr}, p = map.latLngToContainerPoint([lat, lng]);
      const box = map.getContainer().getBoundingClientRect();
      return [box.left + p.x, box.top + p.y];
    }}"""
    return tuple(page.evaluate(script, [lat, lng]))


def view(page, map_expr: str, lat: float, lng: float, zoom: int) -> None:
    page.evaluate(f"([lat, lng, zoom]) => {map_expr}.setView([lat, lng], zoom, {{animate: false}})", [lat, lng, zoom])
    page.wait_for_timeout(300)


def hover_tooltip(page, map_expr: str, lat: float, lng: float) -> str:
    """Hover the feature drawn at (lat, lng); the text of the tooltip that opens."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(100)
    x, y = screen_point(page, map_expr, lat, lng)
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip-pane .leaflet-tooltip").last
    tooltip.wait_for(timeout=5_000)
    assert_not_run(page)
    return tooltip.inner_text()


def click_popup(page, map_expr: str, lat: float, lng: float, selector: str = ".leaflet-popup-content"):
    """Click the feature drawn at (lat, lng); the popup that opens."""
    x, y = screen_point(page, map_expr, lat, lng)
    page.mouse.click(x, y)
    popup = page.locator(selector).last
    popup.wait_for(timeout=10_000)
    assert_not_run(page)
    return popup


def open_map(page, url: str) -> None:
    """Load the map page afresh (a new hash alone would not reload it)."""
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_selector("#map[data-loaded]", timeout=30_000)


def settle_tiles(page, pane: str) -> None:
    wait_until(page, f"() => document.querySelectorAll('.leaflet-{pane}-pane path').length > 0", timeout_ms=30_000)
    page.wait_for_timeout(800)


def test_map_page(watched, portal_server, hostile):
    page = watched
    district, neighbour = hostile.district, hostile.neighbour
    jfb = hostile.jiefangbei.point
    page.goto(f"{portal_server}/#map=15/{jfb.y:.5f}/{jfb.x:.5f}&layers=districts")
    page.wait_for_selector("#map[data-loaded='38']", timeout=30_000)
    # The legend names the clusters, one of them hostile.
    assert hostile.cluster.name in page.locator(".legend").inner_text()
    # District tooltips.
    assert hover_tooltip(page, "portalMap", jfb.y, jfb.x) == district.name
    view(page, "portalMap", neighbour.point.y, neighbour.point.x, 12)
    assert hover_tooltip(page, "portalMap", neighbour.point.y, neighbour.point.x) == neighbour.name
    # Click to locate: the panel and the popup name the hostile district, street and community.
    view(page, "portalMap", JIEFANGBEI.y, JIEFANGBEI.x, 15)
    x, y = screen_point(page, "portalMap", JIEFANGBEI.y, JIEFANGBEI.x)
    page.mouse.click(x, y)
    page.wait_for_selector("#locate-result dd[data-level='village']", timeout=10_000)
    panel = page.locator("#locate-result").inner_text()
    popup = page.locator(".leaflet-popup-content").inner_text()
    for text in (panel, popup):
        assert district.name in text and hostile.cluster.name in text
        assert any(t.name in text for t in hostile.townships)
        assert any(v.name in text for v in hostile.villages)
    assert_inert(page)

    # Vector-tile features: a place name, a facility, a community, a marker; popups and the panel.
    place, facility, village = hostile.jiefangbei, hostile.facilities[0], hostile.villages[0]
    marker = hostile.markers[0]
    cases = [
        ("placenames", place.point, {p.name for p in hostile.placenames}),
        ("facilities", facility.point, {f.name for f in hostile.facilities}),
        ("villages", village.point, {v.name for v in hostile.villages}),
        ("markers", marker.geom, {m.number for m in hostile.markers}),
    ]
    for layer, point, names in cases:
        open_map(page, f"{portal_server}/#map=16/{point.y:.6f}/{point.x:.6f}&layers={layer}")
        settle_tiles(page, layer)
        popup = click_popup(page, "portalMap", point.y, point.x, ".leaflet-popup .feature-popup")
        title = popup.locator("strong").inner_text()
        assert title in names, (layer, title)
        assert title in page.locator("#feature-result").inner_text()
        if layer == "facilities":
            assert IMG + SCRIPT in popup.inner_text()  # the address, among the attributes
        assert_inert(page)

    # A coverage gap on the map.
    gap = hostile.gaps[0]
    lng, lat = gap["geometry"]["coordinates"]
    open_map(page, f"{portal_server}/#map=15/{lat:.6f}/{lng:.6f}&layers=gaps&gap=elder_station")
    page.wait_for_selector("#map[data-gaps]", timeout=30_000)
    page.wait_for_timeout(300)
    popup = click_popup(page, "portalMap", lat, lng, ".leaflet-popup .feature-popup")
    assert popup.locator("strong").inner_text() == gap["properties"]["name"]
    assert gap["properties"]["name"].endswith((IMG, SCRIPT))
    assert_inert(page)

    # Search: the suggestions and the popup after flying to the name.
    open_map(page, f"{portal_server}/#layers=districts")
    page.fill("#search-input", "jiefangbeijiedao")
    option = page.locator("#search-results li[role=option]").first
    option.wait_for(timeout=10_000)
    assert option.inner_text().startswith(place.name)
    option.click()
    page.locator(".leaflet-popup-content strong").wait_for(timeout=15_000)
    assert page.locator(".leaflet-popup-content strong").inner_text().startswith(place.name)
    assert_inert(page)


def test_inspection_dashboard_and_line_page(watched, portal_server, hostile):
    page = watched
    line = hostile.line
    page.goto(portal_server + "/inspections/")
    page.wait_for_selector("#lines-map[data-markers]", timeout=30_000)
    assert hostile.cluster.name in page.locator("#summary-cluster").inner_text()
    assert hostile.district.name in page.locator("#summary-district").inner_text()
    # The line's tooltip: hover a vertex of the line as drawn.
    vertex = page.evaluate(
        """(code) => {
          let found = null;
          linesMap.eachLayer((l) => {
            if (l.feature && l.feature.properties.code === code && l.getLatLngs) { found = l; }
          });
          const flat = found.getLatLngs().flat(3);
          const p = flat[Math.floor(flat.length / 2)];
          return [p.lat, p.lng];
        }""",
        LINE,
    )
    view(page, "linesMap", vertex[0], vertex[1], 12)
    assert line.name in hover_tooltip(page, "linesMap", *vertex)
    # A marker's tooltip (markers show from zoom 9).
    for marker in hostile.markers[:2]:
        view(page, "linesMap", marker.geom.y, marker.geom.x, 14)
        page.wait_for_selector("path.boundary-marker", state="attached", timeout=5_000)
        assert hover_tooltip(page, "linesMap", marker.geom.y, marker.geom.x) == marker.number
    assert_inert(page)

    page.goto(f"{portal_server}/inspections/lines/{LINE}/")
    page.wait_for_selector("#lines-map[data-lines='1']", timeout=30_000)
    assert page.locator("#line-name").inner_text() == line.name
    numbers = page.locator("#markers tbody").inner_text()
    assert all(m.number in numbers for m in hostile.markers)
    page.wait_for_selector("path.boundary-marker", state="attached", timeout=10_000)
    marker = hostile.markers[1]
    view(page, "linesMap", marker.geom.y, marker.geom.x, 14)
    assert hover_tooltip(page, "linesMap", marker.geom.y, marker.geom.x) == marker.number
    assert_inert(page)


def test_lookup_detail_and_register(watched, portal_server, hostile):
    page = watched
    place = hostile.jiefangbei
    page.goto(portal_server + "/placenames/")
    page.locator("#placename-q").press_sequentially("jiefangbeijie", delay=20)
    suggestion = page.locator("#placename-suggestions li").first
    suggestion.wait_for(timeout=10_000)
    assert suggestion.inner_text().startswith(place.name)
    suggestion.click()
    page.wait_for_selector("#placename-results li.selected", timeout=10_000)
    selected = page.locator("#placename-results li.selected").inner_text()
    assert place.name in selected and hostile.district.name in selected
    assert page.locator(".placename-tooltip").inner_text() == place.name
    assert page.locator("#placename-map").get_attribute("data-selected") == place.name
    assert_inert(page)

    page.goto(f"{portal_server}/placenames/?q=jiefangbei")
    page.wait_for_selector("#placename-results li", timeout=10_000)
    names = page.locator("#placename-results .result-name").all_inner_texts()
    assert {p.name for p in hostile.placenames} & set(names)
    assert_inert(page)

    page.goto(f"{portal_server}/placenames/{place.pk}/")
    page.wait_for_selector(".placename-tooltip", timeout=10_000)
    assert page.locator("#place-name").inner_text().startswith(place.name)
    assert page.locator(".placename-tooltip").inner_text() == place.name
    assert hostile.district.name in page.locator(".breadcrumb").inner_text()
    assert IMG + SCRIPT in page.locator(".placename-panel").inner_text()  # meaning, approval, history
    assert_inert(page)

    page.goto(f"{portal_server}/placenames/register/{hostile.district.code}/")
    page.wait_for_selector("table tbody tr")
    assert place.name in page.locator("table").inner_text()
    assert_inert(page)


def test_coverage_dashboard(watched, portal_server, hostile):
    page = watched
    page.goto(portal_server + "/coverage/?category=elder_station")
    page.wait_for_selector("#map[data-coverage='elder_station']", timeout=30_000)
    rule = page.locator("#rule").inner_text()
    assert hostile.standard.description in rule and hostile.standard.source in rule
    gaps = page.locator("#gap-list").inner_text()
    assert all(g["properties"]["name"] in gaps for g in hostile.gaps)
    assert hostile.cluster.name in page.locator("#cluster-table").inner_text()
    assert hostile.district.name in page.locator("#district-chart svg").text_content()
    # Tooltips: the worst gap, and 渝中区.
    gap = hostile.gaps[0]
    lng, lat = gap["geometry"]["coordinates"]
    view(page, "coverageMap", lat, lng, 14)
    assert gap["properties"]["name"] in hover_tooltip(page, "coverageMap", lat, lng)
    jfb = hostile.jiefangbei.point
    view(page, "coverageMap", jfb.y, jfb.x, 14)
    page.mouse.move(0, 0)
    assert hover_tooltip(page, "coverageMap", jfb.y, jfb.x).startswith(hostile.district.name + " · ")
    assert_inert(page)


def test_survey_upload_report(watched, portal_server, hostile):
    page = watched
    upload = hostile.upload
    sign_in(page, portal_server, hostile.users["reviewer"])
    page.documents.clear()  # the router does not see the redirect after signing in
    page.goto(portal_server + "/surveys/")
    assert upload.original_name in page.locator("table.data").inner_text()
    assert hostile.line.name in page.locator("table.data").inner_text()
    assert_inert(page)

    page.goto(f"{portal_server}/surveys/{upload.pk}/")
    page.wait_for_selector("#report-map[data-loaded]", timeout=30_000)
    assert upload.original_name in page.locator("h1").inner_text()
    assert page.locator("form.review-form").count() == 1  # the reviewer's Accept form is on this page
    table = page.locator("#per-feature").inner_text()
    assert IMG in table and SCRIPT in table
    for feature in upload.features.filter(kind="marker").order_by("index"):
        point = feature.geom
        view(page, "window['leafletmapreport-map']", point.y, point.x, 16)
        assert hover_tooltip(page, "window['leafletmapreport-map']", point.y, point.x) == feature.number
    assert_inert(page)
