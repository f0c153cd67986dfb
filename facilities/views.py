"""Pages of the facilities: the coverage dashboard and the downloadable folium report."""

from django.conf import settings
from django.http import HttpResponse
from django.views.generic import TemplateView
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boundaries.selectors import cluster_list
from facilities.models import Facility
from facilities.reports import coverage_report_html
from facilities.selectors import cluster_or_none, coverage_standard_list, district_id_or_none
from facilities.tasks import REPORT_JOB
from gis_portal.core.api import ErrorSerializer, query_validate
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.region import division_code_validator
from gis_portal.core.roles import PLANNER, user_has_role
from gis_portal.core.throttles import HeavyReadThrottle, heavy_request
from gis_portal.jobs.api import JobSerializer, job_accepted
from gis_portal.jobs.services import job_enqueue


class CoverageDashboardView(TemplateView):
    """Choose a category; districts coloured by coverage, the cluster table, a bar chart by
    district, the gaps on the map and suggested sites (all from /api/v1/coverage*); for planners,
    what-if scenarios (sites added by a click, facilities picked to close) and saved ones."""

    template_name = "facilities/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        with_rule = {s.category for s in coverage_standard_list()}
        context["categories"] = [(value, label) for value, label in Facility.Category.choices if value in with_rule]
        wanted = self.request.GET.get("category")
        context["selected"] = wanted if wanted in with_rule else Facility.Category.ELDER_STATION
        context["clusters"] = cluster_list()
        context["has_basemap"] = bool(settings.BASEMAP_URL)
        # Planners get the what-if panel; ?scenario=<id> opens a saved one (the API checks access).
        context["is_planner"] = user_has_role(self.request.user, PLANNER)
        scenario = self.request.GET.get("scenario", "")
        context["scenario_id"] = int(scenario) if scenario.isdigit() and context["is_planner"] else None
        return context


class ReportQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Facility.Category.values)
    district = serializers.CharField(required=False, validators=[division_code_validator("district")])
    cluster = serializers.SlugField(required=False)
    k = serializers.IntegerField(min_value=0, max_value=20, default=5)


class CoverageReportView(APIView):
    """The folium report as a standalone HTML download (errors as the API's JSON). It solves a
    covering problem: throttled per user or address and run in a heavy-request slot."""

    throttle_classes = [HeavyReadThrottle]

    @extend_schema(exclude=True)
    @heavy_request
    def get(self, request: Request) -> HttpResponse:
        q = query_validate(ReportQuerySerializer, request)
        html = coverage_report_html(
            category=q["category"], district_code=q.get("district"), cluster=q.get("cluster"), k=q["k"]
        )
        scope = q.get("district") or q.get("cluster") or "chongqing"
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coverage-{q["category"]}-{scope}.html"'
        return response


class CoverageReportJobView(APIView):
    """The same report made by a job worker (signed-in users): 202 with the job, whose file is the
    report once it has succeeded."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Start the coverage report as a job (signed-in users): 202 with the job's URL to poll",
        description=(
            "The arguments of GET /coverage/report (category, district or cluster, k) in a JSON body; "
            "the job's `result_url` is the standalone HTML report once `status` is `succeeded`."
        ),
        request=ReportQuerySerializer,
        responses={202: JobSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        body = ReportQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        q = body.validated_data
        if q.get("district") and q.get("cluster"):
            raise InvalidParameter("give a district or a cluster, not both")
        district_id_or_none(q.get("district")), cluster_or_none(q.get("cluster"))  # unknown ones: 404 now
        params = {
            "category": q["category"],
            "district_code": q.get("district"),
            "cluster": q.get("cluster"),
            "k": q["k"],
        }
        return job_accepted(job_enqueue(kind=REPORT_JOB, params=params, owner=request.user))
