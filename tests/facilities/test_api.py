"""The facilities API: filters, exports, coverage endpoints, and 400 JSON for bad parameters."""

import re

import pytest

from tests.facilities.conftest import S
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_facilities_by_district_and_bbox(api, scene, add_facility):
    add_facility("cemetery", 105.15, 27.72, name="盒内公墓")
    add_facility("cemetery", 105.05, 27.79, name="盒外公墓")
    body = api.get("/api/v1/facilities", {"district": "509901", "bbox": "105.1,27.7,105.2,27.75"}).json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in body["features"]] == ["盒内公墓"]
    props = body["features"][0]["properties"]
    assert (props["township_code"], props["district_code"], props["village_code"]) == (
        "509901002",
        "509901",
        "509901002001",
    )
    assert body["features"][0]["geometry"] == {"type": "Point", "coordinates": [105.15, 27.72]}
    csv = api.get("/api/v1/facilities", {"district": "509901", "export": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.getvalue().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,name,category") and lines[0].endswith("lon,lat") and len(lines) == 3


def test_generated_facilities_say_so(api):
    body = api.get("/api/v1/facilities", {"category": "funeral_home"}).json()
    assert body["count"] > 30
    assert all(f["properties"]["is_synthetic"] for f in body["features"])


def test_coverage_endpoints(api, scene, add_facility):
    add_facility("elder_station", *S)
    body = api.get("/api/v1/coverage", {"category": "elder_station", "group_by": "cluster"}).json()
    assert [r["code"] for r in body["results"]] == ["urban_core", "ne_three_gorges", "se_wuling"]
    assert body["rule"]["radius_urban_m"] == 1000 and "GB 50180" in body["rule"]["source"]
    assert body["is_synthetic"] is True
    gaps = api.get("/api/v1/coverage/gaps", {"category": "elder_station", "district": "509901"}).json()
    assert [f["properties"]["code"] for f in gaps["features"]] == ["509901001002", "509901001003"]
    csv = api.get("/api/v1/coverage/gaps", {"category": "elder_station", "district": "509901", "export": "csv"})
    assert len(csv.getvalue().decode("utf-8-sig").splitlines()) == 3
    sites = api.get("/api/v1/coverage/suggest", {"category": "elder_station", "district": "509901", "k": 1}).json()
    assert sites["features"][0]["properties"]["population_newly_covered"] == 2000
    rows = api.get("/api/v1/coverage", {"category": "funeral_home", "group_by": "district", "export": "csv"})
    assert len(rows.getvalue().decode("utf-8-sig").splitlines()) == 39 + 1  # 38 real districts, the test one


@pytest.mark.parametrize(
    ("url", "params", "status"),
    [
        ("/api/v1/facilities", {"bbox": "1,2,3"}, 400),
        ("/api/v1/facilities", {"bbox": "107,30,106,31"}, 400),
        ("/api/v1/facilities", {"category": "hospital"}, 400),
        ("/api/v1/facilities", {"district": "50010"}, 400),
        ("/api/v1/facilities", {"export": "xls"}, 400),
        ("/api/v1/coverage", {}, 400),
        ("/api/v1/coverage", {"category": "elder_station", "group_by": "province"}, 400),
        ("/api/v1/coverage", {"category": "elder_station", "kind": "area"}, 400),
        ("/api/v1/coverage/gaps", {"category": "elder_station", "limit": "0"}, 400),
        ("/api/v1/coverage/gaps", {"category": "elder_station", "district": "999999"}, 400),
        ("/api/v1/coverage/suggest", {"category": "elder_station", "k": "51"}, 400),
        ("/api/v1/coverage/suggest", {"category": "elder_station", "k": "x"}, 400),
        ("/api/v1/coverage/suggest", {"category": "elder_institution"}, 400),
        ("/api/v1/coverage", {"category": "columbarium"}, 404),
    ],
)
def test_bad_parameters_get_json_errors(api, url, params, status):
    assert_error(api.get(url, params), status, "not_found" if status == 404 else "invalid_parameter")


def test_report_download(client):
    response = client.get("/coverage/report", {"category": "cemetery", "district": "500241", "k": 2})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="coverage-cemetery-500241.html"'
    html = response.content.decode()
    assert "秀山土家族苗族自治县" in html and "synthetic" in html
    # Self-contained: no script or stylesheet from elsewhere, Leaflet inlined.
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', html) and "Leaflet 1.9" in html
    bad = client.get("/coverage/report", {"category": "cemetery", "cluster": "nowhere"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


@pytest.mark.browser
def test_report_renders_offline_in_chromium(client, page):
    html = client.get("/coverage/report", {"category": "funeral_home", "cluster": "se_wuling", "k": 1}).content
    requests = []
    page.on("request", lambda r: not r.url.startswith("data:") and requests.append(r.url))
    page.set_content(html.decode())
    page.wait_for_selector("path.leaflet-interactive")
    assert page.locator("path.leaflet-interactive").count() >= 6  # the six districts, gaps and sites
    assert page.errors == [] and [u for u in requests if u != "about:blank"] == []
