"""The inspection dashboard and a line page in headless Chromium."""

import pytest

from boundaries.models import BoundaryLine, Marker

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_dashboard_draws_lines_markers_and_tables(page, portal_server):
    external = []
    page.on("request", lambda r: not r.url.startswith((portal_server, "data:")) and external.append(r.url))
    page.goto(portal_server + "/inspections/")
    page.wait_for_selector("#lines-map[data-markers]", timeout=30_000)
    lines = BoundaryLine.objects.filter(level__in=["province", "county"]).count()
    assert lines == 88
    assert page.locator("#lines-map").get_attribute("data-lines") == str(lines)
    assert page.locator("path.leaflet-interactive:not(.boundary-marker)").count() == lines
    # Disputed lines are drawn red, overdue ones dashed.
    script = "els => els.map(e => e.getAttribute('stroke'))"
    strokes = set(page.eval_on_selector_all("path.leaflet-interactive", script))
    assert {"#1b9e77", "#b22222"} <= strokes
    assert page.locator("path.leaflet-interactive[stroke-dasharray]").count() > 0
    assert page.locator("#lines-map").get_attribute("data-markers") == str(Marker.objects.count())
    # Markers show from zoom 9: none at the municipal scale, some around 渝中区.
    assert page.locator("path.boundary-marker").count() == 0
    page.evaluate("() => window.linesMap.setView([29.56, 106.55], 11)")
    page.wait_for_selector("path.boundary-marker", state="attached", timeout=5_000)
    assert page.locator("path.boundary-marker").count() == Marker.objects.count()
    script = "els => els.filter(e => e.getAttribute('d') !== 'M0 0').length"  # Leaflet's off-screen path
    drawn = page.eval_on_selector_all("path.boundary-marker", script)
    assert 5 < drawn < Marker.objects.count() / 10
    # Roll-up tables: 3 clusters, 38 districts, totals that agree.
    assert page.locator("#summary-cluster tbody tr").count() == 3
    assert page.locator("#summary-district tbody tr").count() == 38
    assert "主城都市区" in page.locator("#summary-cluster").inner_text()
    cluster_total = page.locator("#summary-cluster tfoot th").all_inner_texts()
    district_total = page.locator("#summary-district tfoot th").all_inner_texts()
    assert cluster_total[1:] == district_total[1:]
    assert cluster_total[1] == str(BoundaryLine.objects.count())
    assert page.locator("#overdue-list tbody tr").count() > 10
    assert "示意数据" in page.locator(".synthetic-note").inner_text()
    assert page.errors == []
    assert external == []


def test_line_page_shows_history(page, portal_server):
    line = BoundaryLine.objects.filter(level="county", problems__isnull=False).order_by("code").first()
    page.goto(portal_server + "/inspections/")
    page.wait_for_selector("#overdue-list a", timeout=30_000)
    page.goto(f"{portal_server}/inspections/lines/{line.code}/")
    page.wait_for_selector("#lines-map[data-lines='1']", timeout=30_000)
    assert page.locator("#line-name").inner_text() == line.name
    assert page.locator("#history tbody tr").count() == line.inspections.count()
    assert page.locator("#problems tbody tr").count() == line.problems.count()
    assert page.locator("#markers tbody tr").count() == line.markers.count()
    assert page.locator("path.boundary-marker").count() == line.markers.count()
    assert page.errors == []


def test_dashboard_in_english(page, portal_server):
    page.goto(portal_server + "/inspections/")
    page.click("button[value='en']")
    page.wait_for_selector("#lines-map[data-markers]", timeout=30_000)
    assert "Boundary line joint inspections" in page.locator("h1").inner_text()
    assert "Overdue lines" in page.content()
    assert page.errors == []
