"""Vector tiles: valid MVT over Chongqing with the right features, empty outside, 400 on bad
coordinates, the cluster filter, zoom thresholds and caching headers."""

import mercantile
import pytest
from mapbox_vector_tile import decode

from gis_portal.portal.tiles import TownshipLayer
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
JIEFANGBEI = (106.5767, 29.5575)


def tile(client, layer: str, z: int, lon: float = JIEFANGBEI[0], lat: float = JIEFANGBEI[1], **query):
    t = mercantile.tile(lon, lat, z)
    return client.get(f"/tiles/{layer}/{z}/{t.x}/{t.y}.pbf", query)


def features(response, layer: str) -> list[dict]:
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return decode(response.content)[layer]["features"]


def test_each_layer_has_features_over_the_city_centre(client):
    assert {f["properties"]["name"] for f in features(tile(client, "townships", 12), "townships")} >= {"解放碑街道"}
    villages = features(tile(client, "villages", 14), "villages")
    assert villages and all(f["properties"]["is_synthetic"] for f in villages)
    assert "渝中区" in {f["properties"]["name"] for f in features(tile(client, "placenames", 8), "placenames")}
    assert features(tile(client, "facilities", 12), "facilities")
    lines = features(tile(client, "boundary-lines", 10), "boundary-lines")
    assert "渝中区—江北区" in {f["properties"]["name"] for f in lines}
    marker = features(tile(client, "markers", 9), "markers")[0]["properties"]
    assert {"number", "marker_type", "status"} <= set(marker)


def test_zoom_thresholds_and_simplification(client):
    # Villages only from zoom 10; place names of villages only from 12.
    assert tile(client, "villages", 9).status_code == 204
    ranks = {f["properties"]["rank"] for f in features(tile(client, "placenames", 8), "placenames")}
    assert max(ranks) <= 1
    # Township lines join the county lines from zoom 9.
    low = {f["properties"]["level"] for f in features(tile(client, "boundary-lines", 7), "boundary-lines")}
    high = {f["properties"]["level"] for f in features(tile(client, "boundary-lines", 11), "boundary-lines")}
    assert "township" not in low and "township" in high


def vertices(content: bytes, layer: str) -> tuple[set[str], int]:
    features = decode(content)[layer]["features"]

    def count(coords) -> int:
        return 1 if isinstance(coords[0], (int, float)) else sum(count(c) for c in coords)

    return {f["properties"]["code"] for f in features}, sum(count(f["geometry"]["coordinates"]) for f in features)


def test_polygons_are_simplified_by_zoom():
    """The same tile with and without the zoom's simplification: the same townships, far fewer
    vertices (the tile grid alone would keep more)."""

    class Unsimplified(TownshipLayer):
        simplify = False

    t = mercantile.tile(*JIEFANGBEI, 8)
    simplified_codes, simplified = vertices(TownshipLayer().get_tile(t.x, t.y, t.z), "townships")
    full_codes, full = vertices(Unsimplified().get_tile(t.x, t.y, t.z), "townships")
    assert simplified_codes == full_codes and len(full_codes) > 100
    assert simplified < 0.7 * full


def test_empty_tile_outside_chongqing(client):
    response = tile(client, "villages", 12, lon=116.39, lat=39.91)  # Beijing
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/villages/3/9/0.pbf",
        "/tiles/villages/23/0/0.pbf",
        "/tiles/villages/a/0/0.pbf",
        "/tiles/villages/5/-1/0.pbf",
        "/tiles/villages/12/3308/1681.pbf?cluster=atlantis",
    ],
)
def test_bad_coordinates_or_cluster_are_400_json(client, path):
    assert_error(client.get(path), 400, "invalid_parameter")


def test_unknown_layer_is_404_json(client):
    assert_error(client.get("/tiles/secrets/1/0/0.pbf"), 404, "not_found")


def test_cluster_filter_limits_the_layer(client):
    urban = features(tile(client, "townships", 12, cluster="urban_core"), "townships")
    assert urban and {f["properties"]["cluster_id"] for f in urban} == {"urban_core"}
    assert tile(client, "townships", 12, cluster="se_wuling").status_code == 204


def test_tiles_are_cacheable(client, django_assert_num_queries):
    first = tile(client, "facilities", 12)
    assert "max-age=" in first["Cache-Control"] and "public" in first["Cache-Control"]
    with django_assert_num_queries(0):
        again = tile(client, "facilities", 12)
    assert again.content == first.content
