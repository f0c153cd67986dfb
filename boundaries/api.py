"""API of the divisions: /api/v1/locate and /api/v1/divisions."""

import math

import django_filters
from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from boundaries.models import Cluster, Division
from boundaries.selectors import division_list, division_locate
from gis_portal.api import ErrorSerializer, GeoJSONField, GeoJsonPagination, with_geojson
from gis_portal.errors import InvalidParameter


class LocateQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text="longitude, WGS84 (EPSG:4326)")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="latitude, WGS84 (EPSG:4326)")

    def validate(self, attrs):
        if not all(math.isfinite(value) for value in attrs.values()):
            raise serializers.ValidationError("lon and lat must be finite numbers")
        return attrs


def _ref_serializer(name: str, *, distance: bool = False):
    fields = {
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "is_synthetic": serializers.BooleanField(required=False),
    }
    if distance:
        fields["distance_m"] = serializers.FloatField(help_text="geodesic distance in metres")
    return inline_serializer(name=name, fields=fields, allow_null=True)


class LocateView(APIView):
    @extend_schema(
        summary="Which municipality, cluster, district, township and village a point is in",
        parameters=[LocateQuerySerializer],
        responses={
            200: inline_serializer(
                name="Locate",
                fields={
                    "municipality": _ref_serializer("LocateMunicipality"),
                    "cluster": _ref_serializer("LocateCluster"),
                    "district": _ref_serializer("LocateDistrict"),
                    "township": _ref_serializer("LocateTownship"),
                    "village": _ref_serializer("LocateVillage", distance=True),
                },
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        query = LocateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(division_locate(**query.validated_data))


class DivisionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Division.Level.choices)
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), to_field_name="slug", help_text="cluster slug"
    )
    parent = django_filters.CharFilter(
        field_name="parent__code",
        validators=[RegexValidator(r"^[0-9]{6}([0-9]{3})?$", "a 6- or 9-digit division code")],
        help_text="code of the parent division",
    )
    code = django_filters.CharFilter(
        validators=[RegexValidator(r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$", "a 6-, 9- or 12-digit division code")]
    )

    class Meta:
        model = Division
        fields = ["level", "cluster", "parent", "code"]


class DivisionSerializer(GeoFeatureModelSerializer):
    geom = GeoJSONField(source="geojson", help_text="boundary or, for villages/communities, location (Point)")
    level = serializers.CharField()
    cluster = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parent_code = serializers.CharField(source="parent.code", default=None, read_only=True)

    class Meta:
        model = Division
        geo_field = "geom"
        id_field = False
        fields = [
            "code",
            "name",
            "level",
            "kind",
            "cluster",
            "parent_code",
            "area_m2",
            "population",
            "elderly_population",
            "is_synthetic",
            "source",
            "source_datum",
        ]


class DivisionListView(generics.ListAPIView):
    serializer_class = DivisionSerializer
    filterset_class = DivisionFilter
    pagination_class = GeoJsonPagination

    @extend_schema(
        summary="Divisions as a GeoJSON FeatureCollection",
        parameters=[
            OpenApiParameter(
                "simplify", float, description="simplify polygons to about this tolerance, in metres (0-5000)"
            )
        ],
        responses={200: DivisionSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        raw = self.request.query_params.get("simplify", "0")
        try:
            simplify_m = float(raw)
        except ValueError:
            raise InvalidParameter(f"simplify: {raw!r} is not a number") from None
        if not 0 <= simplify_m <= 5000:
            raise InvalidParameter("simplify: must be between 0 and 5000 metres")
        return with_geojson(division_list(), "shape", simplify_m=simplify_m)
