"""API of the gazetteer under /api/v1/placenames/ (routed by the portal's urls): the views and their
query serializers for search, autocomplete, detail, nearby names, the duplicate-name check and a
district's exports (CSV, GeoJSON). Points are GeoJSON in EPSG:4326."""

import math

from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boundaries.models import Cluster, Division
from gis_portal.core.api import ConditionalGetMixin, ErrorSerializer, query_validate
from gis_portal.core.changes import tables_changed_at
from gis_portal.core.errors import NotFound
from gis_portal.core.features import FeatureText, collection_text, feature_texts
from gis_portal.core.formats import csv_response, geojson_feature
from gis_portal.core.region import division_code_validator
from placenames.models import PlaceName, PlaceNameVariant
from placenames.search import placename_autocomplete_cached, placename_search_text, search_filters
from placenames.selectors import (
    placename_detail,
    placename_district_list,
    placename_duplicates,
    placename_name_on,
    placename_nearby_text,
)

SYNTHETIC_NOTE = "Records with is_synthetic=true (locations, former names) are generated for the demo."
DIVISION_CODE = division_code_validator("district", "township", "village")


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text="Chinese (simplified or traditional), pinyin, initials")
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    level = serializers.ChoiceField(choices=PlaceName.FeatureClass.choices, required=False, help_text="feature class")
    district = serializers.CharField(max_length=32, required=False, help_text="district/county code or name")
    cluster = serializers.SlugField(max_length=32, required=False, help_text="cluster slug")
    date = serializers.DateField(required=False, help_text="only names valid on this date (YYYY-MM-DD)")

    def validate_cluster(self, value: str) -> str:
        if not Cluster.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"no cluster {value!r}")
        return value


class AutocompleteQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200)
    limit = serializers.IntegerField(min_value=1, max_value=20, default=10)


class NearbyQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text="longitude, WGS84")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="latitude, WGS84")
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)

    def validate(self, attrs):
        if not all(math.isfinite(attrs[key]) for key in ("lon", "lat")):
            raise serializers.ValidationError("lon and lat must be finite numbers")
        return attrs


class DuplicatesQuerySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, help_text="the proposed name, in Chinese characters")
    parent = serializers.CharField(validators=[DIVISION_CODE], help_text="code of the parent division")


class ExportQuerySerializer(serializers.Serializer):
    district = serializers.CharField(validators=[division_code_validator("district")])


def placename_feature(place: dict) -> dict:
    properties = {key: value for key, value in place.items() if key != "geometry"}
    return geojson_feature(id=place["id"], geometry=place["geometry"], properties=properties)


# What a place's Feature reads: the names, their variants, the divisions of its hierarchy.
PLACE_TABLES = (PlaceName._meta.db_table, PlaceNameVariant._meta.db_table, Division._meta.db_table)


class PlacesConditionalGetMixin(ConditionalGetMixin):
    """A read-only answer of places: ``ETag``, ``Cache-Control``, and ``Last-Modified`` from when
    ``PLACE_TABLES`` last changed; ``not_modified_since`` answers 304 before the places are read."""

    def last_modified(self):
        return tables_changed_at(PLACE_TABLES)


class SearchView(PlacesConditionalGetMixin, APIView):
    @extend_schema(
        summary="Search standard place names (Chinese, traditional, pinyin, initials, prefix, typo, homophone)",
        parameters=[SearchQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        query = query_validate(SearchQuerySerializer, request)
        filters = search_filters(**{key: query.get(key) for key in ("level", "district", "cluster", "date")})
        if (not_modified := self.not_modified_since(request)) is not None:
            return not_modified
        # The features written by PostgreSQL, joined here (never parsed and encoded again).
        features = placename_search_text(q=query["q"], limit=query["limit"], filters=filters)
        return HttpResponse(collection_text(features, note=SYNTHETIC_NOTE), content_type="application/json")


class AutocompleteItemSerializer(serializers.Serializer):
    """One type-ahead suggestion (documentation of the answer: the selector builds it)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    pinyin = serializers.CharField()
    code = serializers.CharField(allow_null=True, help_text="the statistical code where the name is a division")
    label = serializers.CharField(help_text="the name with what it belongs to, for the list")


class AutocompleteView(APIView):
    @extend_schema(
        summary="Type-ahead suggestions: [{id, name, pinyin, code, label}]",
        parameters=[AutocompleteQuerySerializer],
        responses={200: AutocompleteItemSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = query_validate(AutocompleteQuerySerializer, request)
        return Response(placename_autocomplete_cached(q=query["q"], limit=query["limit"]))


class DetailQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="also give `name_on`: the name in use that day (YYYY-MM-DD)")


class DetailView(APIView):
    @extend_schema(
        summary="One place name as a GeoJSON Feature with hierarchy, variants and recorded changes",
        parameters=[DetailQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, placename_id: int) -> Response:
        feature = placename_feature(placename_detail(placename_id=placename_id))
        on = query_validate(DetailQuerySerializer, request).get("date")
        if on is not None:  # the division history: e.g. 新盛街道 was 新盛镇 in 2019
            feature["properties"]["name_on"] = placename_name_on(placename_id=placename_id, on=on)
        return Response(feature)


class NearbyView(PlacesConditionalGetMixin, APIView):
    @extend_schema(
        summary="Names nearest to a point (KNN), with distance in metres",
        parameters=[NearbyQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        query = query_validate(NearbyQuerySerializer, request)
        if (not_modified := self.not_modified_since(request)) is not None:
            return not_modified
        return HttpResponse(collection_text(placename_nearby_text(**query)), content_type="application/json")


class DuplicatesView(APIView):
    @extend_schema(
        summary="Duplicate-name check for a naming application: same name or pinyin in the same district",
        parameters=[DuplicatesQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = query_validate(DuplicatesQuerySerializer, request)
        parent = Division.objects.filter(code=query["parent"]).first()
        if parent is None:
            raise NotFound(f"no division with code {query['parent']}")
        return Response(placename_duplicates(name=query["name"], parent=parent))


def _district(request: Request) -> Division:
    code = query_validate(ExportQuerySerializer, request)["district"]
    district = Division.objects.filter(code=code, level=Division.Level.DISTRICT).first()
    if district is None:
        raise NotFound(f"no district or county with code {code}")
    return district


EXPORT_FIELDS = [
    "id",
    "name",
    "specific",
    "generic",
    "pinyin",
    "code",
    "feature_class",
    "parent_code",
    "lon",
    "lat",
    "is_synthetic",
]


def _export_rows(district: Division):
    for p in placename_district_list(district=district):
        yield {
            "id": p.id,
            "name": p.name,
            "specific": p.specific,
            "generic": p.generic,
            "pinyin": p.pinyin,
            "code": p.division.code if p.division else "",
            "feature_class": p.feature_class,
            "parent_code": p.parent.code if p.parent else "",
            "lon": round(p.point.x, 6) if p.point else None,
            "lat": round(p.point.y, 6) if p.point else None,
            "is_synthetic": p.is_synthetic,
        }


# A feature of the GeoJSON export: the CSV's columns as properties (codes "" when there is none),
# the point (lon/lat) as the geometry.
EXPORT_FEATURE = FeatureText(
    geometry="point",
    id="id",
    id_first=False,
    properties=[
        ("id", F("id")),
        ("name", F("name")),
        ("specific", F("specific")),
        ("generic", F("generic")),
        ("pinyin", F("pinyin")),
        ("code", Coalesce(F("division__code"), Value(""))),
        ("feature_class", F("feature_class")),
        ("parent_code", Coalesce(F("parent__code"), Value(""))),
        ("is_synthetic", F("is_synthetic")),
    ],
)


class ExportCsvView(APIView):
    @extend_schema(
        summary="A district's standard names as CSV (UTF-8 with BOM; lon/lat WGS84)",
        parameters=[ExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        district = _district(request)
        return csv_response(
            _export_rows(district), filename=f"placenames-{district.code}.csv", fieldnames=EXPORT_FIELDS
        )


class ExportGeoJsonView(PlacesConditionalGetMixin, APIView):
    @extend_schema(
        summary="A district's standard names as GeoJSON (EPSG:4326)",
        parameters=[ExportQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        district = _district(request)
        if (not_modified := self.not_modified_since(request)) is not None:
            return not_modified
        # The features written by PostgreSQL (the CSV's columns, lon/lat as the Point), joined here.
        features = feature_texts(placename_district_list(district=district), EXPORT_FEATURE)
        response = HttpResponse(collection_text(features, note=SYNTHETIC_NOTE), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="placenames-{district.code}.geojson"'
        return response
