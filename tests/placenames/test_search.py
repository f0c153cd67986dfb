"""Search, autocomplete, detail, nearby, duplicates and exports through the API, on the real names."""

import datetime

import pytest

from boundaries.models import Division
from boundaries.names import name_from_committee, name_split
from placenames.models import PlaceName, PlaceNameVariant
from placenames.services import placename_rename
from placenames.text import name_pinyin, query_normalise
from tests.helpers import assert_error, cache_clear_own

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/placenames/search"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [f["properties"]["name"] for f in response.json()["features"]]


@pytest.mark.parametrize(
    ("committee", "name", "split", "pinyin"),
    [
        ("天生城社区居民委员会", "天生城社区", ("天生城", "社区"), "Tianshengcheng Shequ"),
        ("观音桥村村民委员会", "观音桥村", ("观音桥", "村"), "Guanyinqiao Cun"),
        ("盐井凼村民委员会", "盐井凼村", ("盐井凼", "村"), "Yanjingdang Cun"),
        ("化龙桥社区工作站", "化龙桥社区", ("化龙桥", "社区"), "Hualongqiao Shequ"),
        ("石柱土家族自治县", "石柱土家族自治县", ("石柱", "土家族自治县"), "Shizhu Tujiazu Zizhixian"),
        ("重庆市", "重庆市", ("重庆", "市"), "Chongqing Shi"),
        ("长寿区", "长寿区", ("长寿", "区"), "Changshou Qu"),
    ],
)
def test_name_rules(committee, name, split, pinyin):
    assert name_from_committee(committee) == name
    assert name_split(name) == split
    assert name_pinyin(specific=split[0], generic=split[1]) == pinyin


def test_query_normalisation():
    assert query_normalise("Wànzhōu") == ("wanzhou", False)
    assert query_normalise("wan4 zhou1") == ("wanzhou", False)
    assert query_normalise("渝中區") == ("渝中区", True)


def test_gazetteer_is_filled_from_every_division():
    assert PlaceName.objects.filter(division__isnull=False).count() == 12_340
    assert not PlaceName.objects.filter(name__endswith="委员会").exists()
    place = PlaceName.objects.get(division__code="500103")
    assert (place.name, place.pinyin, place.specific, place.generic) == ("渝中区", "Yuzhong Qu", "渝中", "区")
    assert PlaceName.objects.get(name="解放碑街道").pinyin == "Jiefangbei Jiedao"
    assert PlaceNameVariant.objects.get(placename=place, kind="traditional").name == "渝中區"


@pytest.mark.parametrize("q", ["yuzhong", "渝中區", "渝中", "Yúzhōng", "yzq", "YU ZHONG"])
def test_yuzhong_first(client, q):
    features = client.get(SEARCH, {"q": q}).json()["features"]
    first = features[0]["properties"]
    assert first["name"] == "渝中区" and first["code"] == "500103"
    assert first["hierarchy"] == [
        {"code": "500000", "name": "重庆市", "level": "municipality"},
        {"code": "500103", "name": "渝中区", "level": "district"},
    ]
    assert features[0]["geometry"]["type"] == "Point"


def test_jiefangbei_first(client):
    response = client.get(SEARCH, {"q": "jiefangbei"})
    assert names(response)[0] == "解放碑街道"
    assert response.json()["features"][0]["properties"]["pinyin"] == "Jiefangbei Jiedao"
    # A typo in the pinyin still finds it (fuzzy tier).
    typo = client.get(SEARCH, {"q": "jiefangbie"}).json()["features"][0]["properties"]
    assert typo["name"] == "解放碑街道" and typo["matched"]["tier"] == "fuzzy"


def test_homophone_character(client):
    response = client.get(SEARCH, {"q": "沙平坝"})
    top3 = names(response)[:3]
    assert "沙坪坝区" in top3
    assert response.json()["features"][top3.index("沙坪坝区")]["properties"]["matched"]["tier"] == "pinyin"


def test_guanyinqiao_street_and_same_named_communities(client):
    response = client.get(SEARCH, {"q": "观音桥"})
    features = response.json()["features"]
    assert features[0]["properties"]["name"] == "观音桥街道"
    assert [h["name"] for h in features[0]["properties"]["hierarchy"]] == ["重庆市", "江北区", "观音桥街道"]
    exact = [f["properties"] for f in features if f["properties"]["matched"]["tier"] == "exact"]
    assert sorted(p["name"] for p in exact) == ["观音桥村", "观音桥社区", "观音桥社区", "观音桥街道"]
    districts = {p["hierarchy"][1]["name"] for p in exact if p["name"] == "观音桥社区"}
    assert len(districts) == 2  # same name in two districts, told apart by the hierarchy
    for p in exact:
        assert len(p["hierarchy"]) == (3 if p["name"] == "观音桥街道" else 4)
        assert p["hierarchy"][-1]["name"] == p["name"]


def test_former_name_finds_renamed_place_and_date_filter(client):
    place = PlaceName.objects.get(name="解放碑街道")
    placename_rename(
        placename=place, new_name="解放碑商圈街道", on=datetime.date(2024, 1, 1), approval_ref="渝府〔2024〕1号"
    )
    found = client.get(SEARCH, {"q": "解放碑街道"}).json()["features"][0]["properties"]
    assert found["name"] == "解放碑商圈街道"
    assert found["matched"]["former"] is True and found["matched"]["valid_to"] == "2023-12-31"
    # On a date before the rename the new name did not exist; after it the old one is gone.
    assert "解放碑商圈街道" not in names(client.get(SEARCH, {"q": "解放碑商圈街道", "date": "2020-06-01"}))
    assert names(client.get(SEARCH, {"q": "解放碑商圈街道", "date": "2024-06-01"}))[0] == "解放碑商圈街道"
    # After the rename the old name no longer matches as a name (only a fuzzy look-alike may remain).
    later = client.get(SEARCH, {"q": "解放碑街道", "date": "2024-06-01"}).json()["features"]
    assert all(f["properties"]["matched"]["tier"] == "fuzzy" for f in later)
    former = PlaceNameVariant.objects.get(placename=place, kind="former")
    assert (former.name, former.valid_to) == ("解放碑街道", datetime.date(2023, 12, 31))
    assert place.history.count() == 2  # created, renamed


def test_synthetic_former_names_are_flagged(client):
    former = PlaceNameVariant.objects.filter(kind="former", is_synthetic=True)
    assert former.count() == 8
    variant = former.order_by("name").first()
    hit = client.get(SEARCH, {"q": variant.name}).json()["features"][0]["properties"]
    assert hit["id"] == variant.placename_id and hit["matched"]["former"] and hit["is_synthetic"]
    before = (variant.valid_to - datetime.timedelta(days=30)).isoformat()
    assert client.get(SEARCH, {"q": variant.name, "date": before}).json()["features"][0]["id"] == variant.placename_id
    after = (variant.valid_to + datetime.timedelta(days=400)).isoformat()
    later = client.get(SEARCH, {"q": variant.name, "date": after}).json()["features"]
    assert variant.placename_id not in [f["id"] for f in later]


def test_filters(client):
    only_villages = client.get(SEARCH, {"q": "观音桥", "level": "village"}).json()["features"]
    assert only_villages and all(f["properties"]["feature_class"] == "village" for f in only_villages)
    in_jiangbei = client.get(SEARCH, {"q": "观音桥", "district": "500105"}).json()["features"]
    assert in_jiangbei and all(f["properties"]["hierarchy"][1]["code"] == "500105" for f in in_jiangbei)
    se = client.get(SEARCH, {"q": "观音", "cluster": "se_wuling"}).json()["features"]
    wuling = {"500114", "500156", "500240", "500241", "500242", "500243"}
    assert se and all(f["properties"]["hierarchy"][1]["code"] in wuling for f in se)
    assert len(client.get(SEARCH, {"q": "石", "limit": 3}).json()["features"]) == 3


AUTOCOMPLETE = "/api/v1/placenames/autocomplete"


def answer_names(url: str, response) -> list[str]:
    """The names a 200 answer of search (a FeatureCollection) or autocomplete (a list) holds."""
    assert response.status_code == 200, response.content
    body = response.json()
    if url == SEARCH:
        assert body["type"] == "FeatureCollection"
        return [f["properties"]["name"] for f in body["features"]]
    return [item["name"] for item in body]


@pytest.mark.parametrize("url", [SEARCH, AUTOCOMPLETE])
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # SQL in the query is text to match: no statement runs and no condition widens the search.
        ("'; DROP TABLE placenames_placename; --", []),
        ("渝中区' OR '1'='1", ["渝中区"]),  # only 渝中区, by the pinyin of the query's characters
        # LIKE wildcards and the escape character match nothing (as patterns they would match all).
        ("%_%", []),
        ("\\", []),
        ("\x01\x02\x1b", []),  # control characters only: nothing left to search for
    ],
)
def test_hostile_query_is_searched_as_text(client, url, q, expected):
    assert answer_names(url, client.get(url, {"q": q})) == expected
    assert PlaceName.objects.count() >= 12_340


BAD_QUERIES = [
    ({"q": "x" * 10_000}, "q"),
    ({"q": "渝中\x00区"}, "q"),
    ({"q": ""}, "q"),
    ({}, "q"),
    ({"q": "渝中", "limit": "0"}, "limit"),
    ({"q": "渝中", "limit": "1000"}, "limit"),
    ({"q": "渝中", "limit": "ten"}, "limit"),
]
BAD_FILTERS = [  # search only: autocomplete takes no filters
    ({"q": "渝中", "level": "planet"}, "level"),
    ({"q": "渝中", "district": "999999"}, "district"),
    ({"q": "渝中", "district": "北京市"}, "district"),
    ({"q": "渝中", "cluster": "../etc"}, "cluster"),
    ({"q": "渝中", "cluster": "nowhere"}, "cluster"),
    ({"q": "渝中", "date": "2024-13-45"}, "date"),
]


@pytest.mark.parametrize(
    ("url", "params", "parameter"),
    [(url, params, name) for url in (SEARCH, AUTOCOMPLETE) for params, name in BAD_QUERIES]
    + [(SEARCH, params, name) for params, name in BAD_FILTERS],
)
def test_bad_parameter_is_400_naming_it(client, url, params, parameter):
    response = client.get(url, params)
    assert_error(response, 400)
    assert response.json()["error"]["message"].startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    "extra",
    [{"level": "planet"}, {"district": "999999"}, {"cluster": "../etc"}, {"date": "2024-13-45"}],
)
def test_autocomplete_takes_no_search_filters(client, extra):
    plain = answer_names(AUTOCOMPLETE, client.get(AUTOCOMPLETE, {"q": "渝中"}))
    assert plain[0] == "渝中区"
    assert answer_names(AUTOCOMPLETE, client.get(AUTOCOMPLETE, {"q": "渝中", **extra})) == plain


def test_autocomplete(client):
    items = client.get("/api/v1/placenames/autocomplete", {"q": "jiefang"}).json()
    assert items[0]["name"] == "解放碑街道" and items[0]["label"] == "解放碑街道（渝中区）"
    assert set(items[0]) == {"id", "name", "pinyin", "code", "label"}
    assert client.get("/api/v1/placenames/autocomplete", {"q": "shapingb"}).json()[0]["name"] == "沙坪坝区"


def test_autocomplete_answers_are_kept_a_minute(client, django_assert_num_queries):
    """Type-ahead asks the same first characters over and over: the answer is kept in the shared
    cache (AUTOCOMPLETE_CACHE_S), so a name renamed meanwhile shows there once it expires."""
    first = client.get(AUTOCOMPLETE, {"q": "解放碑"}).json()
    assert "解放碑街道" in [item["name"] for item in first]
    place = PlaceName.objects.get(name="解放碑街道")
    placename_rename(placename=place, new_name="解放碑商圈街道", on=datetime.date(2024, 1, 1))
    with django_assert_num_queries(0):
        assert client.get(AUTOCOMPLETE, {"q": "解放碑"}).json() == first
    cache_clear_own()  # as when it expires
    fresh = [item["name"] for item in client.get(AUTOCOMPLETE, {"q": "解放碑"}).json()]
    assert "解放碑商圈街道" in fresh and "解放碑街道" not in fresh


def test_detail_nearby_duplicates_and_exports(client):
    place = PlaceName.objects.get(division__code="500103")
    detail = client.get(f"/api/v1/placenames/{place.id}").json()
    assert detail["type"] == "Feature" and detail["properties"]["name"] == "渝中区"
    assert {"kind": "traditional", "name": "渝中區"}.items() <= detail["properties"]["variants"][0].items()
    assert detail["properties"]["changes"][0]["type"] == "created"
    assert client.get("/api/v1/placenames/999999999").status_code == 404
    assert client.get("/api/v1/placenames/99999999999999999999999").status_code == 404

    lon, lat = place.point.x, place.point.y
    nearby = client.get("/api/v1/placenames/nearby", {"lon": lon, "lat": lat, "limit": 5}).json()["features"]
    assert len(nearby) == 5
    distances = [f["properties"]["distance_m"] for f in nearby]
    assert distances == sorted(distances) and distances[0] == 0.0
    assert client.get("/api/v1/placenames/nearby", {"lon": "nan", "lat": 1}).status_code == 400

    # 江北区 has 观音桥街道: the same name, and a homophone, are conflicts; elsewhere it is free.
    dup = client.get("/api/v1/placenames/duplicates", {"name": "观音桥街道", "parent": "500105"}).json()
    assert not dup["ok"] and dup["conflicts"][0]["conflict"] == "same_name"
    homophone = client.get("/api/v1/placenames/duplicates", {"name": "观音乔街道", "parent": "500105"}).json()
    assert [c["conflict"] for c in homophone["conflicts"]] == ["same_pinyin"]
    assert client.get("/api/v1/placenames/duplicates", {"name": "观音桥街道", "parent": "500103"}).json()["ok"]
    bad_name = client.get("/api/v1/placenames/duplicates", {"name": "x", "parent": "500105"})
    assert_error(bad_name, 400)
    assert bad_name.json()["error"]["message"].startswith("name: ")
    bad_parent = client.get("/api/v1/placenames/duplicates", {"name": "观音桥", "parent": "abc"})
    assert_error(bad_parent, 400)
    assert bad_parent.json()["error"]["message"].startswith("parent: ")
    assert_error(client.get("/api/v1/placenames/duplicates", {"name": "观音桥", "parent": "999999"}), 404, "not_found")

    csv_text = client.get("/api/v1/placenames/export.csv", {"district": "500103"}).getvalue().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("id,name,specific,generic,pinyin,code")
    assert "解放碑街道,解放碑,街道,Jiefangbei Jiedao,500103" in csv_text
    geojson = client.get("/api/v1/placenames/export.geojson", {"district": "500103"}).json()
    assert geojson["features"][0]["properties"]["name"] == "渝中区"
    assert len(geojson["features"]) == len(csv_text.splitlines()) - 1
    assert client.get("/api/v1/placenames/export.csv", {"district": "5001"}).status_code == 400


def test_duplicates_are_looked_for_in_the_parents_district(client):
    """Under a township or a community the district is the one its code starts with; under the
    municipality the whole municipality is searched."""
    community = Division.objects.filter(level="village", code__startswith="500105").order_by("code").first()
    for parent in (community.code, community.parent.code, "500105"):
        answer = client.get("/api/v1/placenames/duplicates", {"name": "观音桥社区", "parent": parent}).json()
        assert answer["district"] == {"code": "500105", "name": "江北区"}
        assert answer["ok"], answer["conflicts"]  # the two 观音桥社区 are in 南川区 and 开州区
        street = client.get("/api/v1/placenames/duplicates", {"name": "观音桥街道", "parent": parent}).json()
        assert [(c["name"], c["conflict"]) for c in street["conflicts"]] == [("观音桥街道", "same_name")]
    everywhere = client.get("/api/v1/placenames/duplicates", {"name": "观音桥社区", "parent": "500000"}).json()
    assert everywhere["district"] == {"code": "500000", "name": "重庆市"}
    assert sorted(c["hierarchy"][1]["name"] for c in everywhere["conflicts"]) == sorted(["南川区", "开州区"])
    assert {c["conflict"] for c in everywhere["conflicts"]} == {"same_name"}


def test_duplicates_find_former_names(client):
    former = PlaceNameVariant.objects.filter(kind="former").select_related("placename__district").first()
    district = former.placename.district
    answer = client.get("/api/v1/placenames/duplicates", {"name": former.name, "parent": district.code}).json()
    assert [(c["id"], c["conflict"]) for c in answer["conflicts"]] == [(former.placename_id, "former_name")]
    other = Division.objects.filter(level="district").exclude(pk=district.pk).order_by("code").first()
    assert client.get("/api/v1/placenames/duplicates", {"name": former.name, "parent": other.code}).json()["ok"]


def test_register_page(client):
    page = client.get("/placenames/register/500103/").content.decode()
    assert "解放碑街道" in page and "Jiefangbei Jiedao" in page and "500103" in page


def test_register_form_redirects_to_the_districts_page(client):
    response = client.get("/placenames/register/", {"district": "500103"})
    assert response.status_code == 302 and response["Location"] == "/placenames/register/500103/"
    for bad in ({}, {"district": "5001"}, {"district": "500103001"}, {"district": "500103\n"}, {"district": "abcdef"}):
        assert client.get("/placenames/register/", bad).status_code == 404, bad


def test_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    for path in ("search", "autocomplete", "nearby", "duplicates", "export.csv", "export.geojson", "{placename_id}"):
        assert f"/api/v1/placenames/{path}" in paths
    params = {p["name"] for p in paths["/api/v1/placenames/search"]["get"]["parameters"]}
    assert params >= {"q", "limit", "level", "district", "cluster", "date"}
