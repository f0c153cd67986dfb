"""The place-name GeoJSON export written by PostgreSQL holds what the export wrote in Python before:
the CSV's rows as features (same keys in the same order, the point as lon/lat with 6 decimals)."""

import pytest

from boundaries.models import Division
from placenames.api import SYNTHETIC_NOTE, _export_rows
from placenames.models import PlaceName

pytestmark = pytest.mark.django_db


def expected_features(district: Division) -> list[dict]:
    features = []
    for row in _export_rows(district):
        lon, lat = row.pop("lon"), row.pop("lat")
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
        features.append({"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row})
    return features


@pytest.mark.parametrize("code", ["500103", "500240"])
def test_geojson_export_equals_the_rows(client, code):
    district = Division.objects.get(code=code)
    body = client.get("/api/v1/placenames/export.geojson", {"district": code}).json()
    expected = expected_features(district)
    assert list(body) == ["type", "note", "features"] and body["note"] == SYNTHETIC_NOTE
    assert len(body["features"]) == PlaceName.objects.filter(district=district).count() > 10
    assert body["features"] == expected
    assert [list(f) for f in body["features"]] == [list(f) for f in expected]
    assert [list(f["properties"]) for f in body["features"]] == [list(f["properties"]) for f in expected]
