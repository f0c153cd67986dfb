"""/api/v1/locate and /api/v1/divisions, good and bad input, and the OpenAPI document."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from boundaries.models import Division
from tests.helpers import EXTERNAL_ASSET, assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lon", "lat", "district", "cluster"),
    [
        (106.5767, 29.5575, "渝中区", "urban_core"),  # 解放碑
        (106.4478, 29.5797, "沙坪坝区", "urban_core"),  # 磁器口
        (108.3800, 30.8070, "万州区", "ne_three_gorges"),  # 万州 city centre
        (108.7700, 29.5300, "黔江区", "se_wuling"),  # 黔江 city centre
    ],
)
def test_locate_landmarks(api, lon, lat, district, cluster):
    response = api.get("/api/v1/locate", {"lon": lon, "lat": lat})
    assert response.status_code == 200
    body = response.json()
    assert body["municipality"] == {"code": "500000", "name": "重庆市"}
    assert body["district"]["name"] == district
    assert body["cluster"]["code"] == cluster
    # The township contains the point and belongs to the district; the village belongs to it.
    assert body["township"]["code"].startswith(body["district"]["code"])
    assert body["township"]["is_synthetic"] is True
    assert body["village"]["code"].startswith(body["township"]["code"])
    assert body["village"]["distance_m"] >= 0


def test_locate_village_is_the_nearest_of_the_township(api):
    village = Division.objects.filter(level="village", parent__code="500103003").order_by("code").first()
    response = api.get("/api/v1/locate", {"lon": village.point.x, "lat": village.point.y})
    body = response.json()
    assert body["township"]["code"] == "500103003"
    assert body["village"]["code"] == village.code
    assert body["village"]["distance_m"] == pytest.approx(0, abs=0.1)


@pytest.mark.parametrize(("lon", "lat"), [(116.3975, 39.9087), (104.0657, 30.6595), (0, 0)])
def test_locate_outside_chongqing_is_404_json(api, lon, lat):
    assert_error(api.get("/api/v1/locate", {"lon": lon, "lat": lat}), 404, "outside_region")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lon": "106.5"},
        {"lat": "29.5"},
        {"lon": "abc", "lat": "29.5"},
        {"lon": "106.5", "lat": ""},
        {"lon": "nan", "lat": "29.5"},
        {"lon": "inf", "lat": "29.5"},
        {"lon": "106.5", "lat": "95"},
        {"lon": "-181", "lat": "29.5"},
        {"lon": f"106.5'; DROP TABLE {Division._meta.db_table};--", "lat": "29.5"},  # an injection attempt
        {"lon": "1e400", "lat": "29.5"},
    ],
)
def test_locate_bad_input_is_400_json(api, params):
    assert_error(api.get("/api/v1/locate", params), 400, "invalid_parameter")


def features(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def test_divisions_by_level_cluster_and_parent(api):
    districts = features(api.get("/api/v1/divisions", {"level": "district"}))
    assert len(districts) == 38
    first = districts[0]
    assert first["geometry"]["type"] == "MultiPolygon"
    assert first["properties"]["parent_code"] == "500000"
    assert {"code", "name", "level", "cluster", "parent_code", "is_synthetic"} <= set(first["properties"])

    wuling = features(api.get("/api/v1/divisions", {"level": "district", "cluster": "se_wuling"}))
    assert sorted(f["properties"]["name"] for f in wuling) == sorted(
        ["黔江区", "武隆区", "石柱土家族自治县", "秀山土家族苗族自治县", "酉阳土家族苗族自治县", "彭水苗族土家族自治县"]
    )

    yuzhong_streets = features(api.get("/api/v1/divisions", {"parent": "500103"}))
    assert len(yuzhong_streets) == 11
    assert all(f["properties"]["parent_code"] == "500103" for f in yuzhong_streets)
    assert all(f["properties"]["is_synthetic"] for f in yuzhong_streets)

    communities = features(api.get("/api/v1/divisions", {"parent": "500103003"}))
    assert communities and all(f["geometry"]["type"] == "Point" for f in communities)


def test_divisions_simplify_keeps_features_and_shrinks_them(api):
    full = api.get("/api/v1/divisions", {"level": "district"})
    simple = api.get("/api/v1/divisions", {"level": "district", "simplify": 100})
    assert len(features(simple)) == 38
    assert len(simple.content) < len(full.content) / 2


def test_divisions_list_reads_no_geometry_it_does_not_send(api):
    """The list sends the geometry PostgreSQL renders (``geojson``); reading the stored polygons
    too (a district's, and its parent's with every row) made the districts' layer 3x slower."""
    with CaptureQueriesContext(connection) as queries:
        answer = api.get("/api/v1/divisions", {"level": "district", "simplify": 500})
    assert answer.status_code == 200 and len(features(answer)) == 38
    assert features(answer)[0]["geometry"]["type"] == "MultiPolygon"
    selects = [q["sql"] for q in queries.captured_queries if "ST_AsGeoJSON" in q["sql"]]
    assert len(selects) == 1 and "::bytea" not in selects[0]


def test_divisions_pagination(api):
    body = api.get("/api/v1/divisions", {"level": "village", "page_size": 100}).json()
    assert body["count"] == 11270
    assert len(body["features"]) == 100
    assert "page=2" in body["next"]


@pytest.mark.parametrize(
    "params",
    [
        {"level": "galaxy"},
        {"cluster": "nowhere"},
        {"parent": "50010"},
        {"parent": "abc"},
        {"simplify": "-5"},
        {"simplify": "lots"},
        {"page_size": "x"},
    ],
)
def test_divisions_bad_input_is_400_json(api, params):
    response = api.get("/api/v1/divisions", params)
    if params.get("page_size"):  # DRF ignores a malformed page size and uses the default
        assert response.status_code == 200
    else:
        assert_error(response, 400, "invalid_parameter")


def test_unknown_page_and_unknown_api_path_are_404_json(api):
    assert_error(api.get("/api/v1/divisions", {"page": 9999}), 404, "not_found")
    assert_error(api.get("/api/v1/no-such-thing"), 404, "not_found")


def test_writes_are_refused(api):
    from django.contrib.auth.models import User

    # Anonymous: not signed in. Signed in: the API has no way to write divisions at all.
    assert_error(api.post("/api/v1/divisions", {"code": "500199"}, format="json"), 401, "not_authenticated")
    api.force_authenticate(User.objects.create_user("planner", password="pw-for-tests-only"))
    assert_error(api.post("/api/v1/divisions", {"code": "500199"}, format="json"), 405, "method_not_allowed")
    assert not Division.objects.filter(code="500199").exists()


def test_openapi_document_and_docs(api):
    schema = api.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/locate", "/api/v1/divisions"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/divisions"]["get"]["parameters"]}
    assert {"level", "cluster", "parent", "simplify"} <= parameters
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert not EXTERNAL_ASSET.search(docs.content.decode())  # Swagger UI is served from vendored files
