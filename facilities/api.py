"""API of the facilities: /api/v1/facilities, /api/v1/coverage, /api/v1/coverage/gaps and
/api/v1/coverage/suggest, each with a CSV export (``export=csv``); the planners' what-if
/api/v1/coverage/scenario and their saved /api/v1/coverage/scenarios."""

import json
import math

import django_filters
from django.contrib.gis.geos import Polygon
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from facilities.models import CoverageStandard, Facility, Scenario
from facilities.scenarios import (
    coverage_scenario,
    scenario_check,
    scenario_definition,
    scenario_get,
    scenario_list,
    scenario_save,
)
from facilities.selectors import (
    FACILITY_EXPORT_FIELDS,
    GROUP_BYS,
    coverage_by_division,
    coverage_points,
    coverage_points_text,
    facility_export_rows,
    facility_list,
)
from facilities.suggestions import coverage_suggest_steps
from facilities.tasks import SUGGEST_JOB
from gis_portal.core.api import (
    ConditionalGetMixin,
    ErrorSerializer,
    GeoJSONField,
    GeoJSONListView,
    query_validate,
)
from gis_portal.core.features import collection_text
from gis_portal.core.formats import csv_response, feature_rows
from gis_portal.core.region import division_code_validator
from gis_portal.core.roles import PLANNER, user_has_role
from gis_portal.core.throttles import HeavyReadThrottle, heavy_request, heavy_slot_if
from gis_portal.jobs.api import JobSerializer, job_accepted
from gis_portal.jobs.services import job_enqueue

DISTRICT_CODE = division_code_validator("district")
EXPORTS = ("json", "csv")


class BBoxFilter(django_filters.CharFilter):
    """``minlon,minlat,maxlon,maxlat`` in WGS84 (EPSG:4326): facilities inside the box."""

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            box = [float(part) for part in value.split(",")]
        except ValueError:
            raise serializers.ValidationError({"bbox": "four numbers: minlon,minlat,maxlon,maxlat"}) from None
        if len(box) != 4 or not all(math.isfinite(v) for v in box):
            raise serializers.ValidationError({"bbox": "four numbers: minlon,minlat,maxlon,maxlat"})
        minx, miny, maxx, maxy = box
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            raise serializers.ValidationError({"bbox": "min must be below max, within lon/lat ranges"})
        return qs.filter(point__coveredby=Polygon.from_bbox(box))


class FacilityFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Facility.Category.choices)
    status = django_filters.ChoiceFilter(choices=Facility.Status.choices)
    district = django_filters.CharFilter(
        field_name="district__code", validators=[DISTRICT_CODE], help_text="district/county code (6 digits)"
    )
    township = django_filters.CharFilter(
        field_name="division__code",
        validators=[division_code_validator("township")],
        help_text="township/street code (9 digits)",
    )
    bbox = BBoxFilter(help_text="minlon,minlat,maxlon,maxlat (WGS84)")

    class Meta:
        model = Facility
        fields = ["category", "status", "district", "township", "bbox"]


class FacilitySerializer(GeoFeatureModelSerializer):
    point = GeoJSONField(source="geojson", geometry_types=("Point",), help_text="location (Point, EPSG:4326)")
    township_code = serializers.CharField(default=None, read_only=True)
    township = serializers.CharField(source="township_name", default=None, read_only=True)
    district_code = serializers.CharField(default=None, read_only=True)
    district = serializers.CharField(source="district_name", default=None, read_only=True)
    village_code = serializers.CharField(default=None, read_only=True)

    class Meta:
        model = Facility
        geo_field = "point"
        fields = [
            "id",
            "name",
            "category",
            "operator",
            "beds",
            "status",
            "address",
            "opening_date",
            "township_code",
            "township",
            "district_code",
            "district",
            "village_code",
            "is_synthetic",
            "source",
        ]


class ExportThrottled:
    """A view whose CSV export (``export=csv``) is an expensive request: throttled per user or
    address, and run inside a heavy-request slot."""

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.query_params.get("export") == "csv":
            throttles.append(HeavyReadThrottle())
        return throttles


class FacilityListView(ExportThrottled, GeoJSONListView):
    serializer_class = FacilitySerializer  # describes the answer; the features are written in SQL
    filterset_class = FacilityFilter
    geometry = "point"

    def base_queryset(self):
        return facility_list()

    @extend_schema(
        summary="Facilities as a GeoJSON FeatureCollection (export=csv for a table)",
        parameters=[OpenApiParameter("export", str, enum=EXPORTS, description="csv: a CSV download")],
        responses={
            (200, "application/json"): FacilitySerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            400: ErrorSerializer,
        },
    )
    def get(self, request, *args, **kwargs):
        export = ExportSerializer(data=request.query_params)
        export.is_valid(raise_exception=True)
        if export.validated_data["export"] == "csv":
            return self.export(request)
        return super().get(request, *args, **kwargs)

    @heavy_request
    def export(self, request):
        rows = facility_export_rows(self.filter_queryset(facility_list()))
        return csv_response(rows, filename="facilities.csv", fieldnames=FACILITY_EXPORT_FIELDS)


class ExportSerializer(serializers.Serializer):
    export = serializers.ChoiceField(choices=EXPORTS, default="json", help_text="csv: a CSV download")


class CoverageQuerySerializer(ExportSerializer):
    category = serializers.ChoiceField(choices=Facility.Category.values)
    kind = serializers.ChoiceField(
        choices=CoverageStandard.Kind.choices, required=False, help_text="which standard (default: radius/presence)"
    )


class CoverageRollupQuerySerializer(CoverageQuerySerializer):
    group_by = serializers.ChoiceField(choices=GROUP_BYS, default="district")


MAX_JSON_POINTS = 2000  # a JSON answer's size; a CSV export (streamed, throttled) may ask for more
MAX_EXPORT_POINTS = 20000


class CoverageGapsQuerySerializer(CoverageQuerySerializer):
    district = serializers.CharField(required=False, validators=[DISTRICT_CODE])
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_EXPORT_POINTS,
        default=500,
        help_text=f"at most {MAX_JSON_POINTS} for JSON, {MAX_EXPORT_POINTS} for export=csv",
    )

    def validate(self, attrs):
        if attrs["export"] != "csv" and attrs["limit"] > MAX_JSON_POINTS:
            raise serializers.ValidationError({"limit": f"at most {MAX_JSON_POINTS} in JSON; use export=csv for more"})
        return attrs


class CoverageSuggestQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Facility.Category.values)
    k = serializers.IntegerField(min_value=1, max_value=50, default=5)
    district = serializers.CharField(required=False, validators=[DISTRICT_CODE])
    weight = serializers.ChoiceField(choices=["population", "elderly"], default="population")
    stream = serializers.BooleanField(
        default=False, help_text="answer as NDJSON: progress lines as the work goes, the result last (for pages)"
    )


class CoverageView(ExportThrottled, APIView):
    @extend_schema(
        summary="Coverage of a category's standard by district, cluster or the municipality",
        description=(
            "Rows per group: demand points, covered, covered share, population and aged-60+ population "
            "in all and covered, and the rule applied (distances are geodesic metres). Demand data "
            "generated for the demo (is_synthetic)."
        ),
        parameters=[CoverageRollupQuerySerializer],
        responses={
            (200, "application/json"): dict,
            (200, "text/csv"): OpenApiTypes.STR,
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        q = query_validate(CoverageRollupQuerySerializer, request)
        with heavy_slot_if(q["export"] == "csv"):
            result = coverage_by_division(category=q["category"], group_by=q["group_by"], kind=q.get("kind"))
        result["is_synthetic"] = True
        if q["export"] == "csv":
            return csv_response(result["results"], filename=f"coverage-{q['category']}-{q['group_by']}.csv")
        return Response(result)


# Coverage reads tables whose changes are not recorded (standards, the nearest-facility table): its
# GeoJSON answers carry an ETag and Cache-Control, and no Last-Modified.
class CoverageGapsView(ExportThrottled, ConditionalGetMixin, APIView):
    @extend_schema(
        summary="Uncovered demand points or divisions, worst first (GeoJSON FeatureCollection)",
        parameters=[CoverageGapsQuerySerializer],
        responses={
            (200, "application/json"): dict,
            (200, "text/csv"): OpenApiTypes.STR,
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        q = query_validate(CoverageGapsQuerySerializer, request)
        return _points_answer(q, only_uncovered=True, filename=f"gaps-{q['category']}.csv")


def _points_answer(q: dict, *, only_uncovered: bool, filename: str) -> HttpResponse:
    """The demand points of a coverage query: as a CSV download, or the FeatureCollection PostgreSQL
    wrote (``coverage_points_text``), sent as it is."""
    where = {"category": q["category"], "district_code": q.get("district"), "kind": q.get("kind"), "limit": q["limit"]}
    if q["export"] == "csv":
        with heavy_slot_if(True):  # an export: run in a heavy-request slot
            result = coverage_points(**where, only_uncovered=only_uncovered)
        return csv_response(feature_rows(result), filename=filename)
    features, members = coverage_points_text(**where, only_uncovered=only_uncovered)
    return HttpResponse(collection_text(features, **members), content_type="application/json")


class CoveragePointsView(ExportThrottled, ConditionalGetMixin, APIView):
    @extend_schema(
        summary="Every demand point or division, covered or not, with the distance to the nearest facility",
        parameters=[CoverageGapsQuerySerializer],
        responses={
            (200, "application/json"): dict,
            (200, "text/csv"): OpenApiTypes.STR,
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        q = query_validate(CoverageGapsQuerySerializer, request)
        return _points_answer(q, only_uncovered=False, filename=f"coverage-points-{q['category']}.csv")


class CoverageSuggestView(APIView):
    # Solving a covering problem takes seconds: a budget per user or address, and a heavy slot.
    throttle_classes = [HeavyReadThrottle]

    @extend_schema(
        summary="Up to k suggested new sites (maximal covering location, existing facilities kept)",
        description="A GeoJSON FeatureCollection of sites, each with the population it newly covers.",
        parameters=[CoverageSuggestQuerySerializer],
        responses={200: dict, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    @heavy_request
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        q = query_validate(CoverageSuggestQuerySerializer, request)
        steps = coverage_suggest_steps(
            category=q["category"], k=q["k"], district_code=q.get("district"), weight=q["weight"]
        )  # the arguments are checked here: a bad one answers 400 before anything is streamed
        if q["stream"]:
            lines = (json.dumps(step, ensure_ascii=False) + "\n" for step in steps)
            return StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
        *_, done = steps
        return Response(done["result"])


class CoverageSuggestJobBodySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Facility.Category.values)
    k = serializers.IntegerField(min_value=1, max_value=50, default=5)
    district = serializers.CharField(required=False, validators=[DISTRICT_CODE])
    weight = serializers.ChoiceField(choices=["population", "elderly"], default="population")


class CoverageSuggestJobView(APIView):
    """Suggested sites as a job: the arguments are checked now (400), the work runs on a worker."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Start suggesting sites as a job (signed-in users): 202 with the job's URL to poll",
        description=(
            "The same work and result as GET /api/v1/coverage/suggest, run by a job worker: the answer "
            "is 202 Accepted with the job (Location: /api/v1/jobs/{id}); poll it for progress, and "
            "its `result` is the FeatureCollection once `status` is `succeeded`."
        ),
        request=CoverageSuggestJobBodySerializer,
        responses={202: JobSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        body = CoverageSuggestJobBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = {
            "category": body.validated_data["category"],
            "k": body.validated_data["k"],
            "district_code": body.validated_data.get("district"),
            "weight": body.validated_data["weight"],
        }
        coverage_suggest_steps(**params)  # checks the arguments (a bad one answers 400); runs nothing
        return job_accepted(job_enqueue(kind=SUGGEST_JOB, params=params, owner=request.user))


# --- what-if scenarios (planners) -----------------------------------------------------------------


class ScenarioBodySerializer(serializers.Serializer):
    """A scenario: the standard (category, kind) and area, facilities to add and ids to close. The
    sites are checked by ``facilities.scenarios.scenario_check`` (a 400 names the bad one)."""

    category = serializers.CharField(help_text="the category whose standard is measured")
    kind = serializers.ChoiceField(choices=CoverageStandard.Kind.choices, required=False)
    district = serializers.CharField(required=False, validators=[DISTRICT_CODE])
    cluster = serializers.SlugField(required=False)
    add = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        default=list,
        help_text="facilities to add: {lon, lat (WGS84), category, beds?, name?}",
    )
    close = serializers.ListField(child=serializers.JSONField(), required=False, default=list, help_text="facility ids")


class ScenarioSaveSerializer(ScenarioBodySerializer):
    name = serializers.CharField(max_length=128)


def _definition(data: dict) -> dict:
    return scenario_check(
        category=data["category"],
        kind=data.get("kind"),
        district_code=data.get("district"),
        cluster=data.get("cluster"),
        add=data["add"],
        close=data["close"],
    )


def _scenario_summary(scenario: Scenario) -> dict:
    return {
        "id": scenario.pk,
        "name": scenario.name,
        "owner": scenario.owner.get_username(),
        "category": scenario.category,
        "kind": scenario.kind or None,
        "district": scenario.district_code or None,
        "cluster": scenario.cluster or None,
        "add": scenario.added,
        "close": scenario.closed,
        "created_at": scenario.created_at.isoformat(),
        "url": reverse("coverage-dashboard") + f"?scenario={scenario.pk}",
    }


class PlannerOnly(BasePermission):
    """Signed in with the planner role (or an administrator)."""

    message = "only planners may use coverage scenarios"

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, PLANNER)


class CoverageScenarioView(APIView):
    permission_classes = [IsAuthenticated, PlannerOnly]

    @extend_schema(
        summary="What if these facilities were added and those closed? (planners; writes nothing)",
        description=(
            "Coverage of one category's standard over an area (a district, a cluster or the municipality) "
            "today and with the scenario, the change, the points newly covered and uncovered, the districts' "
            "rows and the worst gaps. A point outside Chongqing, an unknown category or a closed id that does "
            "not exist answers 400 naming it."
        ),
        request=ScenarioBodySerializer,
        responses={200: dict, 400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        body = ScenarioBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(coverage_scenario(definition=_definition(body.validated_data)))


class ScenarioListView(APIView):
    permission_classes = [IsAuthenticated, PlannerOnly]

    @extend_schema(summary="Your saved scenarios", operation_id="coverage_scenarios_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"results": [_scenario_summary(s) for s in scenario_list(user=request.user)]})

    @extend_schema(
        summary="Save a scenario under a name (its link is readable by every planner)",
        request=ScenarioSaveSerializer,
        responses={201: dict, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        body = ScenarioSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scenario = scenario_save(
            user=request.user, name=body.validated_data["name"], definition=_definition(body.validated_data)
        )
        return Response(_scenario_summary(scenario), status=201)


class ScenarioDetailView(APIView):
    permission_classes = [IsAuthenticated, PlannerOnly]

    @extend_schema(
        summary="A saved scenario and its coverage computed on today's data (any planner)",
        operation_id="coverage_scenarios_retrieve",
        responses={200: dict, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, scenario_id: int) -> Response:
        scenario = scenario_get(user=request.user, scenario_id=scenario_id)
        result = coverage_scenario(definition=scenario_definition(scenario))
        return Response(_scenario_summary(scenario) | {"result": result})
