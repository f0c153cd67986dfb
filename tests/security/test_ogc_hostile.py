"""The OGC API's pages (``f=html``) show hostile names as text: the ``<img onerror>`` and
``<script>`` payloads the security fixture stores in divisions, facilities, markers and coverage
gaps are visible on the items and item pages, and nothing runs. The GeoJSON answers carry them
unchanged (the client's to escape)."""

from urllib.parse import quote

import pytest

from .conftest import IMG, LINE, SCRIPT

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def assert_text_not_run(page, url: str, *texts: str) -> None:
    page.goto(url)
    page.wait_for_timeout(150)  # an <img onerror> fires once the image has failed to load
    assert page.evaluate("typeof window.__xss") == "undefined", f"a payload ran on {url}"
    assert (
        page.evaluate(
            """() => [...document.querySelectorAll("img")].filter((i) => i.getAttribute("src") === "x").length"""
        )
        == 0
    )
    body = page.inner_text("main")
    for text in texts:
        assert text in body, (url, text)
    assert page.errors == []


def test_ogc_pages_show_hostile_names_as_text(page, portal_server, hostile):
    codes = ", ".join(f"'{t.code}'" for t in hostile.townships)
    base = f"{portal_server}/ogc/collections"
    assert_text_not_run(
        page,
        f"{base}/townships/items?f=html&filter={quote(f'code IN ({codes})')}",
        *(t.name for t in hostile.townships),
    )
    township = hostile.townships[0]
    assert_text_not_run(page, f"{base}/townships/items/{township.code}?f=html", township.name)
    facility = hostile.facilities[0]
    assert_text_not_run(page, f"{base}/facilities/items/{facility.pk}?f=html", facility.name, facility.address)
    assert_text_not_run(page, f"{base}/markers/items?f=html&line={LINE}", *(m.number for m in hostile.markers[:2]))
    assert_text_not_run(page, f"{base}/districts/items?f=html&limit=50", IMG, SCRIPT)
    gap = hostile.gaps[0]["properties"]
    assert_text_not_run(page, f"{base}/coverage-gaps-elder_station-radius/items?f=html&limit=20", gap["name"])
