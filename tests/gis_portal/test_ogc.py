"""OGC API – Features under /ogc/ in-process, against the loaded Chongqing data: documents that
validate against the OGC schemas (transcribed below from the standard's OpenAPI fragments) and the
OpenAPI 3.0 schema, paging, CRSs, CQL2 filters checked against the ORM, and clear 4xx answers."""

import json
import re
from pathlib import Path

import drf_spectacular
import jsonschema
import pytest
from django.contrib.gis.geos import GEOSGeometry, Point, Polygon
from pyproj import Transformer

from boundaries.models import BoundaryLine, Division, Marker
from facilities.models import Facility
from facilities.selectors import coverage_gaps
from gis_portal.core.throttles import HeavyRequestSlot
from gis_portal.portal.ogc.document import CONFORMANCE, MAX_LIMIT
from tests.helpers import assert_error, cache_clear_own

pytestmark = pytest.mark.django_db

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"

# From OGC API – Features Part 1 (17-069r4), openapi/schemas: link, landingPage, confClasses,
# collections, collection, featureCollectionGeoJSON, featureGeoJSON.
LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {"href": {"type": "string"}, "rel": {"type": "string"}},
}
LINKS = {"type": "array", "items": LINK}
LANDING = {"type": "object", "required": ["links"], "properties": {"links": LINKS}}
CONF = {
    "type": "object",
    "required": ["conformsTo"],
    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
}
COLLECTION = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"},
        "links": LINKS,
        "extent": {
            "type": "object",
            "properties": {
                "spatial": {
                    "type": "object",
                    "properties": {
                        "bbox": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                        }
                    },
                }
            },
        },
        "itemType": {"type": "string"},
        "crs": {"type": "array", "items": {"type": "string"}},
    },
}
COLLECTIONS = {
    "type": "object",
    "required": ["links", "collections"],
    "properties": {"links": LINKS, "collections": {"type": "array", "items": COLLECTION}},
}
FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["type"]}]},
        "properties": {"oneOf": [{"type": "null"}, {"type": "object"}]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "links": LINKS,
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": FEATURE},
        "links": LINKS,
        "timeStamp": {"type": "string", "format": "date-time"},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
    },
}


def body(response) -> dict:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(content)


def items(client, collection: str, **params) -> dict:
    response = client.get(f"/ogc/collections/{collection}/items", params)
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert response["Content-Type"] == "application/geo+json"
    found = body(response)
    jsonschema.validate(found, FEATURE_COLLECTION)
    return found


def matched(client, collection: str, **params) -> int:
    return items(client, collection, limit=1, **params)["numberMatched"]


def test_landing_conformance_collections_and_api_validate(client):
    landing = client.get("/ogc/").json()
    jsonschema.validate(landing, LANDING)
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels

    conformance = client.get("/ogc/conformance").json()
    jsonschema.validate(conformance, CONF)
    assert conformance["conformsTo"] == CONFORMANCE

    collections = client.get("/ogc/collections").json()
    jsonschema.validate(collections, COLLECTIONS)
    ids = [c["id"] for c in collections["collections"]]
    assert ids[:7] == ["districts", "townships", "villages", "placenames", "boundary-lines", "markers", "facilities"]
    assert "coverage-gaps-elder_station-radius" in ids
    one = client.get("/ogc/collections/townships").json()
    jsonschema.validate(one, COLLECTION)
    assert one["crs"][0] == CRS84 and f"{EPSG}4490" in one["crs"] and f"{EPSG}3857" in one["crs"]

    api = client.get("/ogc/api")
    assert api["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema_path = Path(drf_spectacular.__file__).parent / "validation" / "openapi_3_0_schema.json"
    jsonschema.validate(api.json(), json.loads(schema_path.read_text()))
    limit = next(
        p for p in api.json()["paths"]["/collections/{collectionId}/items"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == MAX_LIMIT


def test_townships_page_through_next_links_whole(client):
    expected = Division.objects.filter(level="township").count()
    assert expected == 1031
    seen, url, pages = [], "/ogc/collections/townships/items?limit=400", 0
    while url:
        page = body(client.get(url))
        jsonschema.validate(page, FEATURE_COLLECTION)
        assert page["numberMatched"] == expected
        assert page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        links = {link["rel"]: link["href"] for link in page["links"]}
        assert ("prev" in links) == (pages > 0)
        url = links.get("next")
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == expected
    assert set(seen) == set(Division.objects.filter(level="township").values_list("code", flat=True))


def test_features_have_the_v1_attributes(client, api):
    """An item's properties are exactly the v1 list's for the same feature."""
    cases = [
        ("townships", "/api/v1/divisions?level=township&code=500101001", "500101001"),
        ("villages", "/api/v1/divisions?level=village&code=500101001001", "500101001001"),
        ("boundary-lines", "/api/v1/boundary-lines?level=county&page_size=1", None),
        ("markers", "/api/v1/markers?page_size=1", None),
        ("facilities", "/api/v1/facilities?page_size=1", None),
    ]
    for collection, v1_url, fid in cases:
        v1 = api.get(v1_url).json()["features"][0]
        fid = fid or v1.get("id") or v1["properties"].get("code") or v1["properties"]["number"]
        ogc = client.get(f"/ogc/collections/{collection}/items/{fid}").json()
        jsonschema.validate(ogc, FEATURE)
        assert ogc["properties"] == v1["properties"], collection
        assert ogc["geometry"]["type"] == v1["geometry"]["type"]


def test_limit_is_clamped_and_bad_paging_is_400(client):
    page = items(client, "facilities", limit=MAX_LIMIT * 3)
    assert page["numberReturned"] == len(page["features"]) == MAX_LIMIT
    assert page["numberMatched"] == Facility.objects.count() == 16029
    assert_error(client.get("/ogc/collections/facilities/items", {"limit": 0}), 400)
    assert_error(client.get("/ogc/collections/facilities/items", {"limit": "ten"}), 400)
    assert_error(client.get("/ogc/collections/facilities/items", {"offset": -1}), 400)
    assert_error(client.get("/ogc/collections/facilities/items", {"colour": "red"}), 400)


def test_a_page_past_the_last_is_empty_whatever_the_offset(client):
    """An offset past the last feature is an empty page; one beyond PostgreSQL's bigint too (the
    fuzz test found it: it failed mid-stream, after the 200 had gone, with a cut-off body)."""
    for offset in (16029, 2**63, 10**21):
        page = items(client, "facilities", offset=offset, limit=5)
        assert page["features"] == [] and page["numberReturned"] == 0 and page["numberMatched"] == 16029
        assert {link["rel"] for link in page["links"]} >= {"self", "prev"}


def test_unknown_collection_or_item_is_404(client):
    assert_error(client.get("/ogc/collections/rivers"), 404, "not_found")
    assert_error(client.get("/ogc/collections/rivers/items"), 404, "not_found")
    assert_error(client.get("/ogc/collections/townships/items/999999999"), 404, "not_found")
    assert_error(client.get("/ogc/collections/coverage-gaps-nothing-radius/items"), 404, "not_found")


def test_bbox_in_every_offered_crs_selects_what_the_orm_does(client):
    box = (106.4, 29.4, 106.7, 29.7)
    expected = Facility.objects.filter(point__intersects=Polygon.from_bbox(box)).count()
    assert 100 < expected < 16029
    assert matched(client, "facilities", bbox="106.4,29.4,106.7,29.7") == expected
    # EPSG:4490 and EPSG:4326 take latitude first.
    assert matched(client, "facilities", bbox="29.4,106.4,29.7,106.7", **{"bbox-crs": f"{EPSG}4490"}) == expected
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    x1, y1 = to_3857.transform(box[0], box[1])
    x2, y2 = to_3857.transform(box[2], box[3])
    assert matched(client, "facilities", bbox=f"{x1},{y1},{x2},{y2}", **{"bbox-crs": f"{EPSG}3857"}) == expected
    assert_error(client.get("/ogc/collections/facilities/items", {"bbox": "1,2,3"}), 400)
    assert_error(client.get("/ogc/collections/facilities/items", {"bbox": "106,30,107,29"}), 400)


def test_crs_of_the_answer_and_content_crs(client):
    facility = Facility.objects.order_by("id").first()
    lon, lat = facility.point.x, facility.point.y
    url = f"/ogc/collections/facilities/items/{facility.pk}"
    default = client.get(url)
    assert default["Content-Crs"] == f"<{CRS84}>"
    assert default.json()["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    cgcs = client.get(url, {"crs": f"{EPSG}4490"})
    assert cgcs["Content-Crs"] == f"<{EPSG}4490>"
    assert cgcs.json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-5)  # latitude first
    mercator = client.get(url, {"crs": f"{EPSG}3857"})
    assert mercator["Content-Crs"] == f"<{EPSG}3857>"
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    assert mercator.json()["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.01)
    page = client.get("/ogc/collections/facilities/items", {"crs": f"{EPSG}3857", "limit": 1})
    assert page["Content-Crs"] == f"<{EPSG}3857>"
    assert_error(client.get(url, {"crs": f"{EPSG}4545"}), 400)
    assert_error(client.get("/ogc/collections/facilities/items", {"bbox-crs": "EPSG:2000"}), 400)


def test_datetime_selects_on_the_collections_date(client):
    expected = Facility.objects.filter(opening_date__range=("2015-01-01", "2018-12-31")).count()
    assert expected > 0
    assert matched(client, "facilities", datetime="2015-01-01/2018-12-31") == expected
    after = Facility.objects.filter(opening_date__gte="2020-01-01").count()
    assert matched(client, "facilities", datetime="2020-01-01/..") == after
    assert_error(client.get("/ogc/collections/facilities/items", {"datetime": "yesterday"}), 400)


def test_datetime_on_divisions_reads_the_units_of_that_day(client, api):
    """新盛镇 500110122 became 新盛街道 500110006 between the lists of 2019-10-31 and 2020-06-30."""
    for day, count in (("2019-10-31", 1028), ("2023-06-30", 1031)):
        assert matched(client, "townships", datetime=day) == count
        assert api.get("/api/v1/divisions", {"level": "township", "date": day}).json()["count"] == count
    assert matched(client, "townships") == Division.objects.filter(level="township").count()

    def township(day: str, code: str) -> list[dict]:
        found = items(client, "townships", datetime=day, code=code)["features"]
        return [f["properties"] | {"id": f["id"], "has_geometry": f["geometry"] is not None} for f in found]

    (town,) = township("2020-01-01", "500110122")
    assert (town["name"], town["parent_code"], town["valid_to"], town["valid_to_after"]) == (
        "新盛镇", "500110", "2020-06-30", "2019-10-31",
    )  # fmt: skip
    assert town["has_own_geometry"] and town["geometry_code"] == "500110006" and town["has_geometry"]
    assert township("2023-06-30", "500110122") == []
    (street,) = township("2023-06-30", "500110006")
    assert street["id"] == "500110006@2020-06-30" and street["valid_from_after"] == "2019-10-31"
    # An interval: every version in force at some time in it, each with its own id.
    both = items(client, "townships", datetime="2019-10-31/..", filter="code IN ('500110122', '500110006')", limit=10)
    assert sorted(f["id"] for f in both["features"]) == ["500110006@2020-06-30", "500110122"]
    span = items(client, "townships", datetime="../2020-01-01", limit=1)["numberMatched"]
    assert span == 1028  # nothing new began on or before 2020-01-01 (only after the 2019 list)
    too_early = client.get("/ogc/collections/townships/items", {"datetime": "2018-01-01"})
    assert_error(too_early, 400)
    assert "from 2019-10-31" in too_early.json()["error"]["message"]


CQL2_TEXT = [
    ("category = 'funeral_home'", lambda q: q.filter(category="funeral_home")),
    (
        "category <> 'service_centre' AND beds > 100",
        lambda q: q.exclude(category="service_centre").filter(beds__gt=100),
    ),
    ("name LIKE '%殡仪馆'", lambda q: q.filter(name__endswith="殡仪馆")),
    ("category IN ('cemetery', 'columbarium')", lambda q: q.filter(category__in=["cemetery", "columbarium"])),
    ("beds BETWEEN 50 AND 100", lambda q: q.filter(beds__range=(50, 100))),
    ("beds IS NULL", lambda q: q.filter(beds__isnull=True)),
    (
        "NOT (beds IS NULL) OR category = 'cemetery'",
        lambda q: q.filter(beds__isnull=False) | q.filter(category="cemetery"),
    ),
    ("opening_date >= DATE('2015-01-01')", lambda q: q.filter(opening_date__gte="2015-01-01")),
    ("district_code = '500103'", lambda q: q.filter(district__code="500103")),
    (
        "S_INTERSECTS(geometry, POLYGON((106.4 29.4, 106.7 29.4, 106.7 29.7, 106.4 29.7, 106.4 29.4)))",
        lambda q: q.filter(point__intersects=Polygon.from_bbox((106.4, 29.4, 106.7, 29.7))),
    ),
    (
        "S_INTERSECTS(geometry, BBOX(106.4, 29.4, 106.7, 29.7)) AND category = 'elder_station'",
        lambda q: q.filter(point__intersects=Polygon.from_bbox((106.4, 29.4, 106.7, 29.7)), category="elder_station"),
    ),
]


@pytest.mark.parametrize(("text", "orm"), CQL2_TEXT, ids=[t for t, _ in CQL2_TEXT])
def test_cql2_text_selects_what_the_orm_does(client, text, orm):
    expected = orm(Facility.objects.all()).distinct().count()
    assert 0 < expected < 16029
    assert matched(client, "facilities", filter=text) == expected


def test_cql2_json_and_queryable_parameters(client):
    condition = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "category"}, "elder_institution"]},
            {"op": ">=", "args": [{"property": "beds"}, 200]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [105.0, 28.5, 107.5, 30.5]}]},
        ],
    }
    expected = Facility.objects.filter(
        category="elder_institution", beds__gte=200, point__intersects=Polygon.from_bbox((105.0, 28.5, 107.5, 30.5))
    ).count()
    assert expected > 0
    assert matched(client, "facilities", filter=json.dumps(condition), **{"filter-lang": "cql2-json"}) == expected
    assert (
        matched(client, "facilities", category="funeral_home")
        == Facility.objects.filter(category="funeral_home").count()
    )
    # A filter's geometry in another CRS (EPSG:4490: latitude first).
    near = Point(106.55, 29.56, srid=4326)
    expected = Facility.objects.filter(point__intersects=near.buffer(0.05)).count()
    flipped = ", ".join(f"{y} {x}" for x, y in near.buffer(0.05).exterior_ring.coords)
    found = matched(
        client, "facilities", filter=f"S_INTERSECTS(geometry, POLYGON(({flipped})))", **{"filter-crs": f"{EPSG}4490"}
    )
    assert found == expected > 0


def test_cql2_on_computed_properties_of_lines_and_divisions(client):
    county = BoundaryLine.objects.filter(level="county").count()
    assert matched(client, "boundary-lines", filter="level = 'county'") == county
    overdue = matched(client, "boundary-lines", filter="overdue = TRUE AND level = 'township'")
    assert 0 < overdue < BoundaryLine.objects.filter(level="township").count()
    children = Division.objects.filter(level="township", parent__code="500103").count()
    assert matched(client, "townships", filter="parent_code = '500103'") == children > 0
    assert (
        matched(client, "villages", filter="CASEI(kind) = casei('COMMUNITY')")
        == Division.objects.filter(level="village", kind="community").count()
    )
    lost = Marker.objects.filter(status="lost").count()
    assert matched(client, "markers", filter="status = 'lost'") == lost


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("category = ", "line 1, column"),
        ("category == 'x'", "line 1, column"),
        ("colour = 'red'", "unknown property 'colour'"),
        ("beds > 'many'", "beds is of type integer"),
        ("beds BETWEEN 1", "line 1, column"),
        ("S_INTERSECTS(geometry, POINT(1))", "line 1, column"),
    ],
)
def test_malformed_cql2_is_400_naming_where(client, text, where):
    response = client.get("/ogc/collections/facilities/items", {"filter": text})
    assert_error(response, 400)
    assert where in response.json()["error"]["message"]


def test_bad_filter_lang_and_json_are_400(client):
    assert_error(client.get("/ogc/collections/facilities/items", {"filter": "x", "filter-lang": "ecql"}), 400)
    response = client.get("/ogc/collections/facilities/items", {"filter": "{", "filter-lang": "cql2-json"})
    assert_error(response, 400)
    assert "not JSON" in response.json()["error"]["message"]


def test_queryables_and_schema(client):
    queryables = client.get("/ogc/collections/facilities/queryables")
    assert queryables["Content-Type"] == "application/schema+json"
    properties = queryables.json()["properties"]
    assert properties["beds"] == {"title": "beds", "type": "integer"}
    assert properties["opening_date"]["format"] == "date"
    assert properties["geometry"]["$ref"].endswith("/Point.json")
    jsonschema.Draft202012Validator.check_schema(queryables.json())
    schema = client.get("/ogc/collections/facilities/schema").json()
    jsonschema.Draft202012Validator.check_schema(schema)
    feature = client.get(f"/ogc/collections/facilities/items/{Facility.objects.order_by('id').first().pk}").json()
    del feature["links"]
    local = {key: value for key, value in schema.items() if not key.startswith("$")}
    jsonschema.validate(feature, {**local, "properties": {**schema["properties"], "geometry": {"type": "object"}}})


def test_coverage_gaps_collection_matches_the_selector(client):
    expected = coverage_gaps(category="elder_station", kind="radius", limit=100_000)
    page = items(client, "coverage-gaps-elder_station-radius", limit=5)
    assert page["numberMatched"] == expected["total_uncovered"] > 0
    assert [f["properties"]["code"] for f in page["features"]] == [
        f["properties"]["code"] for f in expected["features"][:5]
    ]  # worst first
    assert page["features"][0]["properties"] == expected["features"][0]["properties"]
    heavy = matched(client, "coverage-gaps-elder_station-radius", filter="elderly_population > 500")
    assert heavy == sum(1 for f in expected["features"] if f["properties"]["elderly_population"] > 500)


def test_html_pages_show_data_as_text(client):
    for url in (
        "/ogc/",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/facilities",
        "/ogc/collections/facilities/queryables",
    ):
        response = client.get(url, {"f": "html"})
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
    page = client.get("/ogc/collections/townships/items", {"f": "html", "limit": 5, "filter": "parent_code = '500103'"})
    text = page.content.decode()
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", text))  # no inline script (CSP)
    first = Division.objects.filter(level="township", parent__code="500103").order_by("code").first()
    assert first.name in text and f"items/{first.code}?f=html" in text
    item = client.get(f"/ogc/collections/townships/items/{first.code}", HTTP_ACCEPT="text/html")
    assert item["Content-Type"].startswith("text/html") and first.name in item.content.decode()


def test_documents_are_cacheable_and_pages_are_not_shared(client):
    first = client.get("/ogc/collections/facilities")
    assert first["ETag"] and "public" in first["Cache-Control"] and "Accept" in first["Vary"]
    assert client.get("/ogc/collections/facilities", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    page = client.get("/ogc/collections/facilities/items", {"limit": 1})
    assert "max-age=60" in page["Cache-Control"] and "Accept" in page["Vary"]
    html = client.get("/ogc/collections/facilities", {"f": "html"})
    assert "ETag" not in html and "public" not in html.get("Cache-Control", "")


def test_simplify_vendor_parameter(client):
    def vertices(page) -> int:
        return sum(len(ring) for f in page["features"] for polygon in f["geometry"]["coordinates"] for ring in polygon)

    full = items(client, "districts", limit=40)
    simple = items(client, "districts", limit=40, simplify=2000)
    assert simple["numberReturned"] == full["numberReturned"] == 38
    assert vertices(simple) < vertices(full) / 2
    assert_error(client.get("/ogc/collections/districts/items", {"simplify": "-1"}), 400)


def test_every_spatial_function_selects_what_the_orm_does(client):
    square = Polygon.from_bbox((106.4, 29.4, 106.7, 29.7))
    wkt = "POLYGON((106.4 29.4, 106.7 29.4, 106.7 29.7, 106.4 29.7, 106.4 29.4))"
    facilities = Facility.objects.all()
    cases = [
        ("facilities", f"S_WITHIN(geometry, {wkt})", facilities.filter(point__within=square).count()),
        ("facilities", f"S_DISJOINT(geometry, {wkt})", facilities.filter(point__disjoint=square).count()),
    ]
    one = Facility.objects.order_by("id").first()
    point = f"POINT({one.point.x} {one.point.y})"
    cases.append(("facilities", f"S_EQUALS(geometry, {point})", facilities.filter(point__equals=one.point).count()))
    townships = Division.objects.filter(level="township")
    cases += [
        ("townships", f"S_CONTAINS(geometry, {point})", townships.filter(geom__contains=one.point).count()),
        ("townships", f"S_OVERLAPS(geometry, {wkt})", townships.filter(geom__overlaps=square).count()),
        ("townships", f"S_TOUCHES(geometry, {wkt})", townships.filter(geom__touches=square).count()),
    ]
    line = "LINESTRING(106.0 29.5, 107.0 29.6)"
    crossing = GEOSGeometry(f"SRID=4326;{line}")
    cases.append(
        ("boundary-lines", f"S_CROSSES(geometry, {line})", BoundaryLine.objects.filter(geom__crosses=crossing).count())
    )
    for collection, text, expected in cases:
        assert matched(client, collection, filter=text) == expected, text
    assert cases[0][2] > 0 and cases[3][2] == 1 and cases[6][2] > 0


def test_large_pages_take_a_heavy_slot_and_items_are_throttled(client, settings):
    settings.HEAVY_REQUESTS_AT_ONCE = 1
    with HeavyRequestSlot():  # another worker's large page or export is running
        busy = client.get("/ogc/collections/facilities/items", {"limit": 5000})
        assert_error(busy, 503, "busy")
        assert client.get("/ogc/collections/facilities/items", {"limit": 1000}).status_code == 200
    assert len(items(client, "facilities", limit=5000)["features"]) == 5000  # the slot is free again
    framework = settings.REST_FRAMEWORK
    settings.REST_FRAMEWORK = {
        **framework,
        "DEFAULT_THROTTLE_RATES": {**framework["DEFAULT_THROTTLE_RATES"], "ogc_anon": "3/minute"},
    }
    cache_clear_own()  # forget the requests above
    answers = [client.get("/ogc/collections").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
