"""The division history everywhere a date can be asked: tiles, boundary lines, the pages of the
changes and of a unit, the admin's review of a link, and the date control of the planners' map."""

import datetime

import mercantile
import pytest
from django.contrib.auth.models import User
from mapbox_vector_tile import decode

from boundaries.history_models import DivisionChange, DivisionVersion
from boundaries.models import Division
from tests.helpers import assert_error, wait_until

pytestmark = pytest.mark.django_db
XINSHENG_TOWN, XINSHENG_STREET = "500110122", "500110006"


def tile_of(client, layer: str, z: int, code: str, **query):
    point = Division.objects.get(code=code).point
    t = mercantile.tile(point.x, point.y, z)
    response = client.get(f"/tiles/{layer}/{z}/{t.x}/{t.y}.pbf", query)
    assert response.status_code == 200, response.content[:300]
    return decode(response.content)[layer]["features"]


def test_dated_township_tiles_name_the_units_of_that_day(client):
    today = {f["properties"]["code"]: f["properties"] for f in tile_of(client, "townships", 11, XINSHENG_STREET)}
    then = {
        f["properties"]["code"]: f["properties"]
        for f in tile_of(client, "townships", 11, XINSHENG_STREET, date="2020-01-01")
    }
    assert today[XINSHENG_STREET]["name"] == "新盛街道" and XINSHENG_TOWN not in today
    assert then[XINSHENG_TOWN]["name"] == "新盛镇" and XINSHENG_STREET not in then
    assert then[XINSHENG_TOWN]["cluster_id"] == "urban_core" and then[XINSHENG_TOWN]["is_synthetic"] is True


def test_dated_village_and_placename_tiles(client):
    villages = tile_of(client, "villages", 14, XINSHENG_STREET, date="2020-01-01")
    codes = {f["properties"]["code"] for f in villages}
    assert codes and all(not code.startswith(XINSHENG_STREET) for code in codes)
    assert any(code.startswith(XINSHENG_TOWN) for code in codes)
    names = {
        f["properties"].get("name_on") for f in tile_of(client, "placenames", 12, XINSHENG_STREET, date="2020-01-01")
    }
    assert "新盛镇" in names and "新盛街道" not in names
    assert_error(client.get("/tiles/townships/10/800/400.pbf", {"date": "2019-10-30"}), 400)


def all_lines(api, **query) -> dict[str, dict]:
    """Every township line of the API's pages, by code."""
    lines, page = {}, 1
    while True:
        body = api.get("/api/v1/boundary-lines", {"level": "township", "page_size": 2000, "page": page, **query}).json()
        lines.update({f["properties"]["code"]: f["properties"] for f in body["features"]})
        if not body.get("next"):
            return lines
        page += 1


def test_dated_boundary_lines_leave_out_lines_that_did_not_exist(api):
    # A line between a unit and the one later split from it did not exist before the split.
    splits = {
        tuple(sorted((c.before.geometry_from.code, c.after.code)))
        for c in DivisionChange.objects.filter(type="split_from").select_related("before__geometry_from", "after")
    }
    assert ("500110002", "500110007") in splits  # 通惠街道 split from 文龙街道
    today, then = all_lines(api), all_lines(api, date="2019-10-31")
    hidden = set(today) - set(then)
    assert set(then) < set(today) and hidden
    assert {tuple(code.split("-")) for code in hidden} <= splits
    assert {tuple(code.split("-")) for code in today} & splits == {tuple(code.split("-")) for code in hidden}
    line = all_lines(api, date="2020-01-01")["500110001-500110006"]
    assert (line["left"], line["right"], line["right_name"]) == ("500110001", XINSHENG_TOWN, "新盛镇")
    assert today["500110001-500110006"]["right_name"] == "新盛街道"
    assert_error(api.get("/api/v1/boundary-lines", {"date": "2019-02-30"}), 400)


def test_changes_page_by_district_and_csv_link(client):
    page = client.get("/divisions/changes/", {"step": "2020-06-30", "district": "500110"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "新盛镇" in html and "新盛街道" in html and "通惠街道" in html
    assert 'id="district-500110"' in html and 'id="district-500156"' not in html
    assert "/api/v1/division-changes?export=csv&amp;since=2020-06-30&amp;until=2020-06-30&amp;district=500110" in html
    # By default: the latest list with township changes (2021-10-31), all districts.
    default = client.get("/divisions/changes/").content.decode()
    assert "清溪场街道" in default and "新盛街道" not in default


def test_unit_page_with_timeline_and_gone_unit(client):
    gone = client.get(f"/divisions/{XINSHENG_TOWN}/").content.decode()
    assert 'id="division-status"' in gone and f"/divisions/{XINSHENG_STREET}/" in gone
    assert "2019-10-31 至 2020-06-30 之间" in gone
    assert "无独立几何" not in gone  # it lives on as the street's polygon
    merged = client.get("/divisions/500156110/").content.decode()  # 土坎镇, merged into 羊角街道
    assert "无独立几何" in merged and "并入" in merged
    current = client.get(f"/divisions/{XINSHENG_STREET}/").content.decode()
    assert 'id="division-status"' not in current and "镇→街道" in current
    assert client.get("/divisions/500110999/").status_code == 404


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("history-admin", "h@example.org", "pw-for-tests-only"))
    return client


def test_admin_confirms_a_link_with_its_day_or_refuses_a_day_outside_the_lists(admin_client):
    change = DivisionChange.objects.get(before__code=XINSHENG_TOWN, type="town_to_street")
    url = f"/admin/boundaries/divisionchange/{change.id}/change/"
    form = {"type": change.type, "before": change.before_id, "after": change.after_id, "note": ""}
    refused = admin_client.post(url, {**form, "effective_date": "2020-07-01"})
    assert refused.status_code == 200 and "2019-10-31" in refused.content.decode()
    assert DivisionChange.objects.get(pk=change.pk).review == "inferred"
    done = admin_client.post(url, {**form, "effective_date": "2020-04-01"})
    assert done.status_code == 302
    change.refresh_from_db()
    assert (change.review, change.effective_date, change.reviewed_by.username) == (
        "confirmed",
        datetime.date(2020, 4, 1),
        "history-admin",
    )
    assert DivisionVersion.objects.get(code=XINSHENG_STREET).valid_from == datetime.date(2020, 4, 1)
    assert admin_client.get("/admin/boundaries/divisionversion/").status_code == 200


@pytest.mark.browser
def test_map_date_control_is_kept_in_the_hash_and_dates_locate(page, portal_server):
    point = Division.objects.get(code=XINSHENG_STREET).point
    page.goto(portal_server + f"/#map=13/{point.y:.5f}/{point.x:.5f}&layers=districts&date=2020-01-01")
    page.wait_for_selector("#map[data-loaded='38']", timeout=30_000)
    assert page.input_value("#date-filter") == "2020-01-01"
    assert "2020-01-01" in page.locator("#date-note").inner_text()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#locate-result dd[data-level='township']", timeout=10_000)
    assert XINSHENG_TOWN in page.locator("#locate-result dd[data-level='township']").inner_text()
    # Clearing the date goes back to today, in the hash too.
    page.fill("#date-filter", "")
    page.dispatch_event("#date-filter", "change")
    wait_until(page, "() => !window.location.hash.includes('date=')")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    township = "#locate-result dd[data-level='township']"
    wait_until(page, f"() => document.querySelector(\"{township}\")?.innerText.includes('{XINSHENG_STREET}')")
    assert page.errors == []


def test_changes_page_maps_the_units_it_lists(client):
    page = client.get("/divisions/changes/", {"step": "2020-06-30", "district": "500110"})
    shapes = page.context["shapes"]["features"]
    assert {f["properties"]["code"] for f in shapes} == {"500110007", XINSHENG_STREET}
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in shapes)
    assert 'id="changes-shapes"' in page.content.decode()


@pytest.mark.browser
def test_changes_page_map_draws_in_the_browser(page, portal_server):
    page.goto(portal_server + "/divisions/changes/?step=2021-10-31")
    page.wait_for_selector("#changes-map[data-shapes]", timeout=30_000)
    drawn = int(page.get_attribute("#changes-map", "data-shapes"))
    assert drawn > 10 and page.locator("path.leaflet-interactive").count() == drawn
    assert page.errors == []
