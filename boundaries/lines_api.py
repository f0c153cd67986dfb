"""API of the boundary lines, markers and inspections (/api/v1/boundary-lines,
/api/v1/boundary-lines/{code}, /api/v1/markers, /api/v1/inspections/summary): filters, GeoJSON
serializers and the views. The divisions' API is ``boundaries.api``."""

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

# A paginated GeoJSON FeatureCollection of ``base_queryset()``, its ``geometry`` rendered in SQL; where
# ``simplifiable``, simplified to the ``simplify`` query parameter (metres). (A comment, not a docstring:
# drf-spectacular would print a docstring into every subclass's operation.)
from boundaries.api import DATE_PARAMETER
from boundaries.history_selectors import (
    division_date_parse,
)
from boundaries.models import (
    BoundaryLine,
    Cluster,
    Marker,
)
from boundaries.selectors import (
    boundary_line_get,
    boundary_line_history,
    boundary_line_list,
    inspection_summary,
    marker_list,
)
from gis_portal.core.api import (
    SIMPLIFY_PARAMETER,
    ErrorSerializer,
    GeoJSONField,
    GeoJSONListView,
    query_validate,
)
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.features import Rounded
from gis_portal.core.region import division_code_pattern
from gis_portal.core.roles import user_is_staff_member

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
    geom = GeoJSONField(
        source="geojson", geometry_types=("MultiLineString",), help_text=f"MultiLineString, EPSG:{WGS84}"
    )
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

    def to_representation(self, instance):
        feature = super().to_representation(instance)
        if hasattr(instance, "left_on_code"):  # as of a date: the sides as they were then
            feature["properties"].update(
                left=instance.left_on_code,
                left_name=instance.left_on_name,
                right=instance.right_on_code,
                right_name=instance.right_on_name,
            )
        return feature


@extend_schema_view(
    get=extend_schema(
        summary="Boundary lines with their inspection status, as a GeoJSON FeatureCollection",
        parameters=[SIMPLIFY_PARAMETER, DATE_PARAMETER],
        responses={200: BoundaryLineSerializer(many=True), 400: ErrorSerializer},
    )
)
class BoundaryLineListView(GeoJSONListView):
    serializer_class = BoundaryLineSerializer
    filterset_class = BoundaryLineFilter
    simplifiable = True
    changes_daily = True  # a line falls overdue on a day, without a write

    def on(self):
        if not hasattr(self, "_on"):
            self._on = division_date_parse(raw=self.request.query_params.get("date"))
        return self._on

    def base_queryset(self) -> QuerySet:
        return boundary_line_list(today=timezone.localdate(), on=self.on())

    def computed_properties(self) -> dict:
        computed = {"length_m": Rounded("length_m", 1)}
        if self.on():  # as of a date: the sides as they were then (as the serializer writes them)
            computed.update(
                left="left_on_code", left_name="left_on_name", right="right_on_code", right_name="right_on_name"
            )
        return computed


class BoundaryLineDetailView(APIView):
    @extend_schema(
        summary="One boundary line with its inspection history, markers and problems",
        responses={200: BoundaryLineSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
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
    geom = GeoJSONField(source="geojson", geometry_types=("Point",), help_text=f"Point, EPSG:{WGS84}")
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
