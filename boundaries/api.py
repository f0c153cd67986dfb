"""API of the divisions: /api/v1/locate and /api/v1/locate/batch, /api/v1/divisions (as of a date
too) and /api/v1/divisions/{code}, /api/v1/division-changes, and a merger's impact
(/api/v1/division-proposals/merger-impact): query serializers and filters, GeoJSON serializers and
the views. The boundary lines' API is ``boundaries.lines_api``."""

import math

import django_filters
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from boundaries.history_models import DivisionChange, DivisionVersion, EstablishmentStandard
from boundaries.history_selectors import (
    division_change_list,
    division_change_row,
    division_date_parse,
    division_successors,
    division_timeline,
    division_version_bounds,
    division_version_get,
    division_versions_on,
)
from boundaries.locate_batch import FORMATS as BATCH_FORMATS
from boundaries.locate_batch import locate_batch_file
from boundaries.models import Cluster, Division
from boundaries.proposals import merger_impact
from boundaries.selectors import (
    division_list,
    division_locate,
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
from gis_portal.core.features import is_not_null, json_bound
from gis_portal.core.formats import csv_response
from gis_portal.core.geo import SOURCE_DATUMS
from gis_portal.core.region import division_code_pattern, division_code_validator
from gis_portal.core.throttles import HeavyReadThrottle, heavy_request

# A paginated GeoJSON FeatureCollection of ``base_queryset()``, its ``geometry`` rendered in SQL; where
# ``simplifiable``, simplified to the ``simplify`` query parameter (metres). (A comment, not a docstring:
# drf-spectacular would print a docstring into every subclass's operation.)
DATE_HELP = "YYYY-MM-DD: the divisions in force that day (from the earliest imported list on); none: today's"
DATE_PARAMETER = OpenApiParameter("date", str, description=DATE_HELP)


class LocateQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text=f"longitude, WGS84 (EPSG:{WGS84})")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text=f"latitude, WGS84 (EPSG:{WGS84})")
    date = serializers.CharField(required=False, allow_blank=True, help_text=DATE_HELP)

    def validate(self, attrs):
        if not all(math.isfinite(attrs[key]) for key in ("lon", "lat")):
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
        query = query_validate(LocateQuerySerializer, request)
        on = division_date_parse(raw=query.pop("date", None))
        return Response(division_locate(**query, on=on))


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
    geom = GeoJSONField(
        source="geojson",
        geometry_types=("MultiPolygon", "Point"),
        allow_null=True,
        help_text="boundary or, for villages/communities, location (Point); null where neither is known",
    )
    level = serializers.CharField()
    cluster = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    parent_code = serializers.CharField(source="parent.code", default=None, read_only=True, allow_null=True)

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


class DivisionVersionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Division.Level.choices)
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), to_field_name="slug", help_text="cluster slug"
    )
    parent = django_filters.CharFilter(
        field_name="parent_code",
        validators=[division_code_validator("district", "township")],
        help_text="code of the parent division",
    )
    code = django_filters.CharFilter(validators=[division_code_validator("district", "township", "village")])

    class Meta:
        model = DivisionVersion
        fields = ["level", "cluster", "parent", "code"]


class DivisionVersionSerializer(GeoFeatureModelSerializer):
    """A division as it was on a date: the properties of today's divisions (population and area are
    today's figures, so they are left out) and its validity, each bound exact or an interval."""

    geom = GeoJSONField(
        source="geojson",
        geometry_types=("MultiPolygon", "Point"),
        allow_null=True,
        help_text="the polygon or point of the unit as it lives on today (null: its area went into another unit)",
    )
    cluster = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    valid_from = serializers.SerializerMethodField(
        help_text="{date, exact, after}: the day, or only known to lie after `after` and on or before `date`"
    )
    valid_to = serializers.SerializerMethodField(
        help_text="the first day no longer in force, same shape; null: still in force"
    )
    geometry_code = serializers.CharField(default=None, help_text="code of today's unit whose geometry this is")
    has_own_geometry = serializers.SerializerMethodField()

    class Meta:
        model = DivisionVersion
        geo_field = "geom"
        id_field = False
        fields = [
            "code",
            "name",
            "standard_name",
            "level",
            "kind",
            "cluster",
            "parent_code",
            "district_code",
            "valid_from",
            "valid_to",
            "geometry_code",
            "has_own_geometry",
            "is_synthetic",
            "source",
        ]

    def get_valid_from(self, version) -> dict | None:
        return division_version_bounds(version)["valid_from"]

    def get_valid_to(self, version) -> dict | None:
        return division_version_bounds(version)["valid_to"]

    def get_has_own_geometry(self, version) -> bool:
        return version.geometry_code is not None


@extend_schema_view(
    get=extend_schema(
        summary="Divisions as a GeoJSON FeatureCollection (today's, or those in force on `date`)",
        parameters=[SIMPLIFY_PARAMETER, DATE_PARAMETER],
        responses={200: DivisionSerializer(many=True), 400: ErrorSerializer},
    )
)
class DivisionListView(GeoJSONListView):
    geometry = "shape"
    simplifiable = True

    def on(self):
        if not hasattr(self, "_on"):
            self._on = division_date_parse(raw=self.request.query_params.get("date"))
        return self._on

    @property
    def filterset_class(self):
        return DivisionVersionFilter if self.on() else DivisionFilter

    def get_serializer_class(self):
        return DivisionVersionSerializer if self.on() else DivisionSerializer

    def base_queryset(self) -> QuerySet:
        on = self.on()
        return division_versions_on(on=on) if on else division_list()

    def computed_properties(self) -> dict:
        if not self.on():
            return {}
        return {
            "valid_from": json_bound("valid_from", "valid_from_after"),
            "valid_to": json_bound("valid_to", "valid_to_after"),
            "has_own_geometry": is_not_null("geometry_code"),
        }


class DivisionDetailView(APIView):
    @extend_schema(
        summary="One division by code: today's unit, the one in force on `date`, or a unit gone with its successors",
        parameters=[DATE_PARAMETER],
        responses={
            200: OpenApiResponse(
                description="a GeoJSON Feature: the properties of the dated list, with `status` (current or gone), "
                "`successors` and `changes` (the unit's timeline)"
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request, code: str) -> Response:
        if not DIVISION_CODE.regex.match(code):
            raise InvalidParameter(f"code: {code[:20]!r} is not a 6-, 9- or 12-digit division code")
        on = division_date_parse(raw=request.query_params.get("date"))
        version = division_version_get(code=code, on=on)
        feature = DivisionVersionSerializer(version).data
        feature["properties"]["status"] = "current" if version.valid_to is None else "gone"
        feature["properties"]["successors"] = [
            {"code": s.code, "name": s.name, "level": s.level, "current": s.valid_to is None}
            for s in division_successors(version=version)
        ]
        feature["properties"]["changes"] = division_timeline(code=code)
        return Response(feature)


class DivisionChangeQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text="changes on or after this day (YYYY-MM-DD)")
    until = serializers.DateField(required=False, help_text="changes on or before this day")
    district = serializers.CharField(required=False, validators=[division_code_validator("district")])
    type = serializers.MultipleChoiceField(choices=DivisionChange.Type.values, required=False)
    level = serializers.ChoiceField(choices=DivisionVersion._meta.get_field("level").choices, required=False)
    export = serializers.ChoiceField(choices=["csv"], required=False)


CHANGE_CSV_FIELDS = [
    "changed_after",
    "changed_by",
    "effective_date",
    "district_code",
    "level",
    "type",
    "before_code",
    "before_name",
    "after_code",
    "after_name",
    "inferred",
    "review",
    "evidence",
]


class DivisionChangeListView(APIView):
    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.query_params.get("export") == "csv":  # an export: throttled like every other
            throttles.append(HeavyReadThrottle())
        return throttles

    @extend_schema(
        summary="Division changes (区划调整) derived from the yearly lists, with their evidence",
        parameters=[DivisionChangeQuerySerializer],
        responses={
            200: OpenApiResponse(description="{count, results: [change]}, or CSV with export=csv"),
            400: ErrorSerializer,
        },
    )
    def get(self, request: Request):
        query = DivisionChangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        export = params.pop("export", None)
        changes = division_change_list(
            since=params.get("since"),
            until=params.get("until"),
            district=params.get("district"),
            types=sorted(params.get("type") or []),
            level=params.get("level"),
        )
        rows = (division_change_row(change) for change in changes.iterator(chunk_size=1000))
        if export == "csv":
            return csv_response(
                ({k: row[k] for k in CHANGE_CSV_FIELDS} for row in rows),
                filename="division-changes.csv",
                fieldnames=CHANGE_CSV_FIELDS,
            )
        rows = list(rows)
        return Response({"count": len(rows), "results": rows})


DIVISION_CODE = RegexValidator(division_code_pattern("district", "township", "village"), "a division code")


class MergerImpactQuerySerializer(serializers.Serializer):
    codes = serializers.CharField(help_text="the townships to merge: 9-digit codes, comma-separated")
    unit = serializers.ChoiceField(
        choices=EstablishmentStandard.Unit.values,
        required=False,
        help_text="check against the standards of a town or street",
    )

    def validate_codes(self, value: str) -> list[str]:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        if not 2 <= len(codes) <= 20 or not all(len(code) == 9 and code.isdigit() for code in codes):
            raise serializers.ValidationError("2 to 20 nine-digit township codes, comma-separated")
        return codes


class MergerImpactView(APIView):
    throttle_classes = [HeavyReadThrottle]  # polygon unions and line roll-ups: seconds of database time

    @extend_schema(
        summary="The impact of merging townships, before anything is decided (no change is made)",
        parameters=[MergerImpactQuerySerializer],
        responses={
            200: OpenApiResponse(description="sums, lines retired and joined, names that change, the standards' check"),
            400: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        query = query_validate(MergerImpactQuerySerializer, request)
        return Response(merger_impact(codes=query["codes"], unit=query.get("unit"), today=timezone.localdate()))


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
        body, output = locate_batch_file(
            name=upload.name,
            data=upload.read(),
            datum=form.validated_data["datum"],
            output=form.validated_data.get("output"),
        )
        stem = upload.name.rsplit(".", 1)[0][:60] or "points"
        content_type = "text/csv; charset=utf-8" if output == "csv" else "application/geo+json; charset=utf-8"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, f"{stem}-located.{output}")
        return response
