"""Every paged GeoJSON list written by PostgreSQL (``gis_portal.core.features``) answers exactly what
its DRF serializer wrote before (same features, properties and their order, geometry, paging), today's
divisions and those of a date, simplified or not, the boundary lines (of a date too) and the markers."""

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from boundaries.api import DivisionSerializer, DivisionVersionSerializer
from boundaries.history_selectors import boundary_lines_on, division_versions_on
from boundaries.lines_api import BoundaryLineSerializer, MarkerSerializer
from boundaries.selectors import boundary_line_list, division_list, marker_list
from gis_portal.core.api import with_geojson
from gis_portal.core.features import FeatureText, is_not_null, json_bound, serializer_properties

pytestmark = pytest.mark.django_db


def serializer_features(serializer, queryset, *, offset: int, size: int) -> list[dict]:
    """The page as the DRF serializer path wrote it (the order of keys kept)."""
    data = serializer(queryset[offset : offset + size], many=True).data
    return json.loads(JSONRenderer().render(data))["features"]


def assert_same_page(body: dict, expected: list[dict], *, count: int):
    assert list(body) == ["type", "count", "next", "previous", "features"]
    assert body["count"] == count
    assert body["features"] == expected
    # The same keys in the same order as the serializer's (json.loads keeps the order of the text).
    assert [list(f) for f in body["features"]] == [list(f) for f in expected]
    assert [list(f["properties"]) for f in body["features"]] == [list(f["properties"]) for f in expected]


def test_divisions_of_today_page_two(api):
    body = api.get("/api/v1/divisions", {"level": "township", "page_size": 50, "page": 2}).json()
    queryset = with_geojson(division_list().filter(level="township"), "shape")
    expected = serializer_features(DivisionSerializer, queryset, offset=50, size=50)
    assert len(expected) == 50 and expected[0]["geometry"]["type"] == "MultiPolygon"
    assert_same_page(body, expected, count=queryset.count())
    assert body["next"].endswith("page=3&page_size=50") or "page=3" in body["next"]
    assert "page_size=50" in body["previous"]


def test_divisions_simplified(api):
    body = api.get("/api/v1/divisions", {"level": "district", "simplify": 500}).json()
    queryset = with_geojson(division_list().filter(level="district"), "shape", simplify_m=500)
    expected = serializer_features(DivisionSerializer, queryset, offset=0, size=1000)
    assert len(expected) == 38
    assert_same_page(body, expected, count=38)
    whole = api.get("/api/v1/divisions", {"level": "district"}).json()
    assert len(json.dumps(body)) < len(json.dumps(whole)) / 2  # simplified for real


def test_divisions_of_a_date(api):
    on = datetime.date(2021, 6, 1)
    body = api.get("/api/v1/divisions", {"date": on.isoformat(), "level": "village", "page_size": 300}).json()
    queryset = with_geojson(division_versions_on(on=on).filter(level="village"), "shape")
    expected = serializer_features(DivisionVersionSerializer, queryset, offset=0, size=300)
    assert len(expected) == 300
    assert_same_page(body, expected, count=queryset.count())
    bounds = [f["properties"]["valid_from"] for f in body["features"]]
    assert any(b and set(b) == {"date", "exact", "after"} for b in bounds)


def test_division_versions_with_inexact_bounds_and_no_geometry(api):
    """The SQL of ``valid_from``/``valid_to``/``has_own_geometry`` against the serializer's methods,
    on the versions that exercise each branch (an interval bound, a gone unit without geometry)."""
    on = datetime.date(2021, 6, 1)
    versions = with_geojson(division_versions_on(on=on), "shape")
    picked = list(versions.filter(valid_from_after__isnull=False)[:20]) + list(
        versions.filter(geometry_code__isnull=True)[:20]
    )
    assert picked
    id_, properties = serializer_properties(
        DivisionVersionSerializer,
        computed={
            "valid_from": json_bound("valid_from", "valid_from_after"),
            "valid_to": json_bound("valid_to", "valid_to_after"),
            "has_own_geometry": is_not_null("geometry_code"),
        },
    )
    feature = FeatureText(geometry="shape", properties=properties, id=id_)
    texts = dict(versions.filter(pk__in=[v.pk for v in picked]).annotate(f=feature).values_list("pk", "f"))
    for version in picked:
        expected = json.loads(JSONRenderer().render(DivisionVersionSerializer(version).data))
        assert json.loads(texts[version.pk]) == expected


@pytest.mark.parametrize("params", [{"level": "county"}, {"level": "township", "page_size": 200, "page": 2}])
def test_boundary_lines(api, params):
    body = api.get("/api/v1/boundary-lines", params).json()
    queryset = with_geojson(boundary_line_list(today=timezone.localdate()), "geom").filter(level=params["level"])
    size = params.get("page_size", 1000)
    offset = (params.get("page", 1) - 1) * size
    expected = serializer_features(BoundaryLineSerializer, queryset, offset=offset, size=size)
    assert expected and all(isinstance(f["properties"]["length_m"], float) for f in expected)
    assert_same_page(body, expected, count=queryset.count())


def test_boundary_lines_of_a_date(api):
    on = datetime.date(2021, 6, 1)
    body = api.get("/api/v1/boundary-lines", {"level": "township", "date": on.isoformat(), "page_size": 500}).json()
    lines = boundary_line_list(today=timezone.localdate()).filter(level="township")
    queryset = with_geojson(boundary_lines_on(lines, on=on), "geom")
    expected = serializer_features(BoundaryLineSerializer, queryset, offset=0, size=500)
    assert len(expected) == 500
    assert_same_page(body, expected, count=queryset.count())


def test_markers(api):
    body = api.get("/api/v1/markers", {"status": "intact", "page_size": 300, "page": 2}).json()
    queryset = with_geojson(marker_list().filter(status="intact"), "geom")
    expected = serializer_features(MarkerSerializer, queryset, offset=300, size=300)
    assert len(expected) == 300
    assert_same_page(body, expected, count=queryset.count())


def test_a_field_sql_cannot_write_faithfully_is_refused_when_declared():
    with pytest.raises(ValueError, match="length_m"):
        serializer_properties(BoundaryLineSerializer)  # a SerializerMethodField without its SQL
