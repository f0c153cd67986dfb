"""The batch locate form in headless Chromium: a CSV in, the located CSV back as a download; a bad
file's lines shown as text."""

import pytest

from tests.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_the_form_locates_a_file_and_names_bad_lines(page, portal_server, tmp_path):
    good = tmp_path / "points.csv"
    good.write_text("id,x,y\nA,106.5516,29.5630\nB,116.4,39.9\n", encoding="utf-8")
    page.goto(portal_server + "/locate/batch/")
    page.set_input_files("#batch-file", str(good))
    page.select_option("#batch-datum", "WGS84")
    with page.expect_download() as download:
        page.click("#locate-batch-form button[type=submit]")
    text = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert text[0].startswith("id,x,y,in_chongqing,municipality_code")
    assert text[1].startswith("A,106.5516,29.5630,true,500000,重庆市,") and text[2].startswith("B,116.4,39.9,false,")
    assert download.value.suggested_filename == "points-located.csv"

    bad = tmp_path / "bad.csv"
    bad.write_text("id,x,y\nA,106.5,29.5\nB,<b>x</b>,29.5\n", encoding="utf-8")
    page.set_input_files("#batch-file", str(bad))
    page.click("#locate-batch-form button[type=submit]")
    wait_until(page, "document.getElementById('batch-status').textContent.includes('line 3')", timeout_ms=30_000)
    assert "<b>x</b>" in page.locator("#batch-status").inner_text()  # as text
    assert page.locator("#batch-status b").count() == 0
    assert [e for e in page.errors if "Failed to load resource" not in e] == []  # the 400 itself is expected
