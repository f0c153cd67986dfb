"""API of the divisions (/api/v1/locate, /api/v1/divisions) and of the boundary lines, markers and
inspections (/api/v1/boundary-lines, /api/v1/boundary-lines/{code}, /api/v1/markers,
/api/v1/inspections/summary): query serializers and filters, GeoJSON serializers and the views."""

import math

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from boundaries.locate_batch import FORMATS as BATCH_FORMATS
from boundaries.locate_batch import locate_batch, locate_batch_csv, locate_batch_geojson, locate_batch_read
from boundaries.models import BoundaryLine, Cluster, Division, Marker
from boundaries.selectors import (
    boundary_line_get,
    boundary_line_history,
    boundary_line_list,
    division_list,
    division_locate,
    inspection_summary,
    marker_list,
)
from gis_portal.core.api import (
    SIMPLIFY_PARAMETER,
    ErrorSerializer,
    GeoJSONField,
    GeoJsonPagination,
    query_validate,
    simplify_m_parse,
    with_geojson,
)
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.geo import SOURCE_DATUMS
from gis_portal.core.region import division_code_pattern, division_code_validator
from gis_portal.core.roles import user_is_staff_member
from gis_portal.core.throttles import HeavyReadThrottle, heavy_request


# A paginated GeoJSON FeatureCollection of ``base_queryset()``, its ``geometry`` rendered in SQL; where
# ``simplifiable``, simplified to the ``simplify`` query parameter (metres). (A comment, not a docstring:
# drf-spectacular would print a docstring into every subclass's operation.)
class GeoJSONListView(generics.ListAPIView):
    pagination_class = GeoJsonPagination
    geometry = "geom"
    simplifiable = False

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        simplify_m = simplify_m_parse(self.request.query_params.get("simplify")) if self.simplifiable else 0
        return with_geojson(self.base_queryset(), self.geometry, simplify_m=simplify_m)


class LocateQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text=f"longitude, WGS84 (EPSG:{WGS84})")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text=f"latitude, WGS84 (EPSG:{WGS84})")

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
        return Response(division_locate(**query_validate(LocateQuerySerializer, request)))


class DivisionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Division.Level.choices)
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), to_field_name="slug", help_text="cluster slug"
    )
    parent = django_filters.CharFilter(
        field_name="parent__code",
        validators=[division_code_validator("district", "township")],
        help_text="code of the parent division",
    )
    code = django_filters.CharFilter(validators=[division_code_validator("district", "township", "village")])

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


@extend_schema_view(
    get=extend_schema(
        summary="Divisions as a GeoJSON FeatureCollection",
        parameters=[SIMPLIFY_PARAMETER],
        responses={200: DivisionSerializer(many=True), 400: ErrorSerializer},
    )
)
class DivisionListView(GeoJSONListView):
    serializer_class = DivisionSerializer
    filterset_class = DivisionFilter
    geometry = "shape"
    simplifiable = True

    def base_queryset(self) -> QuerySet:
        return division_list()


# --- Boundary lines, markers and inspections -------------------------------------------------

# A line code: the codes of its two sides (districts or townships), lower first.
_SIDE = division_code_pattern("district", "township").removeprefix("^").removesuffix("$")
LINE_CODE = RegexValidator(rf"^{_SIDE}-{_SIDE}$", "a line code such as 500103-500105")


class BoundaryLineFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=BoundaryLine.Level.choices)
    status = django_filters.ChoiceFilter(choices=BoundaryLine.Status.choices)
    cluster = django_filters.ModelChoiceFilter(
        field_name="district__cluster",
        queryset=Cluster.objects.all(),
        to_field_name="slug",
        method="filter_cluster",
        help_text="cluster slug: lines with a side or their responsible district in the cluster",
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_overdue",
        help_text="true: past next_due or never inspected",
    )

    class Meta:
        model = BoundaryLine
        fields = ["level", "status", "cluster", "overdue"]

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=value == "true")

    def filter_cluster(self, queryset, name, value):
        return queryset.filter(
            Q(district__cluster=value) | Q(left_division__cluster=value) | Q(right_division__cluster=value)
        )


class BoundaryLineSerializer(GeoFeatureModelSerializer):
    geom = GeoJSONField(source="geojson", help_text=f"MultiLineString, EPSG:{WGS84}")
    left = serializers.CharField(source="left_code", help_text="division code of the left side")
    right = serializers.CharField(source="right_code", help_text="division (or province) code of the right side")
    district = serializers.CharField(source="district_code", default=None, help_text="responsible district")
    cluster = serializers.CharField(source="cluster_slug", default=None)
    next_due = serializers.DateField(help_text="last inspection + 5 years")
    overdue = serializers.BooleanField()
    history_is_synthetic = serializers.BooleanField(help_text="inspection history, status and dates are generated")
    length_m = serializers.SerializerMethodField(help_text="geodesic length in metres")

    class Meta:
        model = BoundaryLine
        geo_field = "geom"
        id_field = False
        fields = [
            "code",
            "name",
            "level",
            "left",
            "left_name",
            "right",
            "right_name",
            "district",
            "cluster",
            "length_m",
            "last_inspected",
            "next_due",
            "status",
            "overdue",
            "is_synthetic",
            "history_is_synthetic",
        ]

    def get_length_m(self, line) -> float:
        return round(line.length_m, 1)


@extend_schema_view(
    get=extend_schema(
        summary="Boundary lines with their inspection status, as a GeoJSON FeatureCollection",
        parameters=[SIMPLIFY_PARAMETER],
        responses={200: BoundaryLineSerializer(many=True), 400: ErrorSerializer},
    )
)
class BoundaryLineListView(GeoJSONListView):
    serializer_class = BoundaryLineSerializer
    filterset_class = BoundaryLineFilter
    simplifiable = True

    def base_queryset(self) -> QuerySet:
        return boundary_line_list(today=timezone.localdate())


class BoundaryLineDetailView(APIView):
    @extend_schema(
        summary="One boundary line with its inspection history, markers and problems",
        responses={200: BoundaryLineSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, code: str) -> Response:
        if not LINE_CODE.regex.match(code):
            raise InvalidParameter(f"code: {code!r} is not a line code such as 500103-500105")
        line = boundary_line_get(code=code, today=timezone.localdate())
        feature = BoundaryLineSerializer(line).data
        feature["properties"].update(boundary_line_history(line=line, internal=user_is_staff_member(request.user)))
        return Response(feature)


class MarkerFilter(django_filters.FilterSet):
    line = django_filters.CharFilter(field_name="line__code", validators=[LINE_CODE], help_text="line code")
    status = django_filters.ChoiceFilter(choices=Marker.Status.choices)
    marker_type = django_filters.ChoiceFilter(choices=Marker.Type.choices)

    class Meta:
        model = Marker
        fields = ["line", "status", "marker_type"]


class MarkerSerializer(GeoFeatureModelSerializer):
    geom = GeoJSONField(source="geojson", help_text=f"Point, EPSG:{WGS84}")
    line = serializers.CharField(source="line_code", help_text="line code")

    class Meta:
        model = Marker
        geo_field = "geom"
        id_field = False
        fields = ["number", "line", "sequence", "marker_type", "status", "last_checked", "is_synthetic"]


@extend_schema_view(
    get=extend_schema(
        summary="Boundary markers (界桩) as a GeoJSON FeatureCollection",
        responses={200: MarkerSerializer(many=True), 400: ErrorSerializer},
    )
)
class MarkerListView(GeoJSONListView):
    serializer_class = MarkerSerializer
    filterset_class = MarkerFilter

    def base_queryset(self) -> QuerySet:
        return marker_list()


class SummaryQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=["cluster", "district"], default="cluster")
    level = serializers.ChoiceField(choices=BoundaryLine.Level.values, required=False, allow_null=True, default=None)


_summary_row = {
    "code": serializers.CharField(),
    "name": serializers.CharField(),
    "lines": serializers.IntegerField(),
    "length_m": serializers.FloatField(help_text="geodesic, metres"),
    "inspected_in_cycle": serializers.IntegerField(help_text="inspected within the last 5 years"),
    "overdue": serializers.IntegerField(),
    "with_open_problems": serializers.IntegerField(),
}


class InspectionSummaryView(APIView):
    @extend_schema(
        summary="Lines, length, inspected in cycle, overdue and open problems by cluster or district",
        parameters=[SummaryQuerySerializer],
        responses={
            200: inline_serializer(
                name="InspectionSummary",
                fields={
                    "group_by": serializers.CharField(),
                    "date": serializers.DateField(),
                    "level": serializers.CharField(allow_null=True),
                    "rows": inline_serializer(name="InspectionSummaryRow", fields=_summary_row, many=True),
                    "total": inline_serializer(name="InspectionSummaryTotal", fields=_summary_row),
                },
            ),
            400: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            inspection_summary(today=timezone.localdate(), **query_validate(SummaryQuerySerializer, request))
        )


class LocateBatchSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="a .csv with id, x, y (x the longitude) or a .geojson of Points")
    datum = serializers.ChoiceField(choices=SOURCE_DATUMS, help_text="the datum of x, y: stated, never guessed")
    output = serializers.ChoiceField(choices=BATCH_FORMATS, required=False, help_text="default: the input's format")


class LocateBatchView(APIView):
    """Many points at once: an expensive public read (throttled per user or address, run in a
    heavy-request slot); the body limit is checked before the body is read (413)."""

    permission_classes = [AllowAny]
    throttle_classes = [HeavyReadThrottle]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Locate every point of a CSV (id, x, y) or GeoJSON file (up to 100,000)",
        description=(
            "The same rows with in_chongqing and the municipality, cluster, district, township and "
            "village/community codes and names added, as CSV or GeoJSON; rows outside Chongqing are kept "
            "and marked. Bad rows answer 400 with their line numbers; an oversized file 413."
        ),
        request={"multipart/form-data": LocateBatchSerializer},
        responses={200: bytes, 400: ErrorSerializer, 413: ErrorSerializer, 429: ErrorSerializer},
    )
    @heavy_request
    def post(self, request: Request) -> HttpResponse:
        form = LocateBatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        batch = locate_batch_read(name=upload.name, data=upload.read())
        answers = locate_batch(batch=batch, datum=form.validated_data["datum"])
        output = form.validated_data.get("output") or batch.format
        stem = upload.name.rsplit(".", 1)[0][:60] or "points"
        if output == "csv":
            body, content_type = locate_batch_csv(batch, answers), "text/csv; charset=utf-8"
        else:
            body, content_type = locate_batch_geojson(batch, answers), "application/geo+json; charset=utf-8"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, f"{stem}-located.{output}")
        return response
