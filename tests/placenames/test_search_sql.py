"""Place-name search and the names near a point as GeoJSON written by PostgreSQL: each place one
Feature from ``gis_portal.core.sql.geojson_feature`` (hierarchy and match in SQL), the views only
join the texts. Checked on places made here, whose answer is known by hand (a point, its distance
on the spheroid, a former name with its dates, a name that is no division), and on real names
against the ORM."""

import datetime

import pytest
from django.contrib.gis.geos import Point

from boundaries.models import Division
from gis_portal.core.features import collection_text
from placenames.api import SYNTHETIC_NOTE
from placenames.models import PlaceName, PlaceNameVariant
from placenames.search import placename_search_text
from placenames.selectors import placename_nearby_text
from placenames.services import placename_fields

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/placenames/search"
NEARBY = "/api/v1/placenames/nearby"
PROPERTIES = ["id", "name", "pinyin", "code", "feature_class", "hierarchy", "is_synthetic", "matched"]
# A point in central Chongqing with no name within 50 m, and one 0.01 degree north of it: 1,108.45 m on the
# WGS84 spheroid (meridian radius of curvature at 29.555 N, 6,350,940 m, times 0.01 degree in radians).
HERE = Point(106.57, 29.55, srid=4326)
NORTH = Point(106.57, 29.56, srid=4326)


@pytest.fixture
def roads():
    """Two roads (names that are no division) in 解放碑街道, 渝中区, one with a former name."""
    street = Division.objects.get(name="解放碑街道", level="township")
    made = []
    for name, point in (("鹭汐星河路", HERE), ("鹭汐星河北路", NORTH)):
        made.append(
            PlaceName.objects.create(
                **placename_fields(name=name),
                feature_class="road",
                district=street.parent,
                parent=street,
                cluster=street.parent.cluster,
                point=point,
            )
        )
    PlaceNameVariant.objects.create(
        placename=made[0],
        kind="former",
        name="鹭汐老街",
        valid_from=datetime.date(2001, 3, 1),
        valid_to=datetime.date(2015, 6, 30),
    )
    return made


def features(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()["features"]


def test_a_road_found_by_name(client, roads):
    body = client.get(SEARCH, {"q": "鹭汐星河路"}).json()
    assert list(body) == ["type", "note", "features"] and body["note"] == SYNTHETIC_NOTE
    first = body["features"][0]
    assert list(first) == ["type", "id", "geometry", "properties"]
    assert first["id"] == roads[0].id
    assert first["geometry"] == {"type": "Point", "coordinates": [106.57, 29.55]}
    assert list(first["properties"]) == PROPERTIES
    assert first["properties"] == {
        "id": roads[0].id,
        "name": "鹭汐星河路",
        "pinyin": roads[0].pinyin,
        "code": None,  # no division: the hierarchy stops at its township
        "feature_class": "road",
        "hierarchy": [
            {"code": "500000", "name": "重庆市", "level": "municipality"},
            {"code": "500103", "name": "渝中区", "level": "district"},
            {"code": "500103003", "name": "解放碑街道", "level": "township"},
        ],
        "is_synthetic": False,
        "matched": {"tier": "exact", "field": "name", "text": "鹭汐星河路", "former": False},
    }
    assert len(body["features"]) == 1
    # By prefix both, the shorter name first (same rank: roads).
    by_prefix = features(client.get(SEARCH, {"q": "鹭汐星河"}))
    assert [f["id"] for f in by_prefix] == [roads[0].id, roads[1].id]
    assert {f["properties"]["matched"]["tier"] for f in by_prefix} == {"prefix"}


def test_a_former_name_is_marked_with_its_dates(client, roads):
    found = features(client.get(SEARCH, {"q": "鹭汐老街"}))
    assert [f["id"] for f in found] == [roads[0].id]
    matched = found[0]["properties"]["matched"]
    assert list(matched) == ["tier", "field", "text", "former", "variant", "valid_from", "valid_to"]
    assert matched == {
        "tier": "exact",
        "field": "former",
        "text": "鹭汐老街",
        "former": True,
        "variant": "former",
        "valid_from": "2001-03-01",
        "valid_to": "2015-06-30",
    }
    assert features(client.get(SEARCH, {"q": "鹭汐老街", "date": "2010-01-01"}))[0]["id"] == roads[0].id
    assert roads[0].id not in [f["id"] for f in features(client.get(SEARCH, {"q": "鹭汐老街", "date": "2020-01-01"}))]


def test_names_near_a_point_with_their_distance(client, roads):
    found = features(client.get(NEARBY, {"lon": 106.57, "lat": 29.55, "limit": 50}))
    assert len(found) == 50
    assert found[0]["id"] == roads[0].id and found[0]["properties"]["distance_m"] == 0.0
    assert list(found[0]["properties"]) == [*PROPERTIES[:-1], "distance_m"]
    north = next(f for f in found if f["id"] == roads[1].id)
    assert north["properties"]["distance_m"] == 1108.4
    assert north["geometry"] == {"type": "Point", "coordinates": [106.57, 29.56]}
    distances = [f["properties"]["distance_m"] for f in found]
    assert distances == sorted(distances)


def test_hierarchies_and_order_of_real_names_match_the_orm(client):
    found = features(client.get(SEARCH, {"q": "观音", "limit": 20}))
    assert len(found) == 20
    places = PlaceName.objects.in_bulk([f["id"] for f in found])
    for feature in found:
        place = places[feature["id"]]
        expected = []
        division = place.parent
        while division is not None:
            expected.insert(0, {"code": division.code, "name": division.name, "level": division.level})
            division = division.parent
        if place.division is not None:
            expected.append({"code": place.division.code, "name": place.name, "level": place.division.level})
        assert feature["properties"]["hierarchy"] == expected
        assert feature["properties"]["code"] == (place.division.code if place.division else None)
        assert feature["geometry"]["coordinates"] == [round(place.point.x, 6), round(place.point.y, 6)]
    # Best tier first, then larger divisions (rank) within a tier.
    tiers = ["exact", "prefix", "pinyin", "fuzzy"]
    keys = [(tiers.index(f["properties"]["matched"]["tier"]), places[f["id"]].rank) for f in found]
    assert keys == sorted(keys) and {tier for tier, _ in keys} == {0, 1}  # exact (专名 观音), then prefix


def _refuse(*args, **kwargs):
    raise AssertionError("a search answer built in Python")


@pytest.mark.parametrize(
    ("path", "params", "texts"),
    [
        (SEARCH, {"q": "鹭汐"}, lambda: collection_text(placename_search_text(q="鹭汐"), note=SYNTHETIC_NOTE)),
        (NEARBY, {"lon": 106.57, "lat": 29.55}, lambda: collection_text(placename_nearby_text(lon=106.57, lat=29.55))),
    ],
)
def test_the_answer_is_the_text_postgresql_wrote(
    client, roads, monkeypatch, django_assert_num_queries, path, params, texts
):
    """Two queries (the places, and when their tables last changed, for Last-Modified), and no Python
    builds or encodes a feature: the place as a dict, the Feature dict, DRF's JSON renderer all
    refuse, and the body is the features' texts joined."""
    for target in (
        "placenames.selectors.place_answer",
        "placenames.search.place_answer",
        "placenames.api.placename_feature",
        "gis_portal.core.formats.geojson_feature",
        "rest_framework.renderers.JSONRenderer.render",
    ):
        monkeypatch.setattr(target, _refuse)
    with django_assert_num_queries(2):
        response = client.get(path, params)
    assert response.status_code == 200
    assert len(response.json()["features"]) >= 2
    assert response.content.decode() == texts()
