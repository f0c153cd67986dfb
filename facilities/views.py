"""Pages of the facilities: the coverage dashboard and the downloadable folium report."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.generic import TemplateView
from rest_framework import serializers

from boundaries.selectors import cluster_list
from facilities.models import Facility
from facilities.selectors import coverage_standard_list
from facilities.services import coverage_report_html
from gis_portal.api import error_body
from gis_portal.errors import ServiceError


class CoverageDashboardView(TemplateView):
    """Choose a category; districts coloured by coverage, the cluster table, a bar chart by
    district, the gaps on the map and suggested sites (all from /api/v1/coverage*)."""

    template_name = "facilities/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        with_rule = {s.category for s in coverage_standard_list()}
        context["categories"] = [(value, label) for value, label in Facility.Category.choices if value in with_rule]
        wanted = self.request.GET.get("category")
        context["selected"] = wanted if wanted in with_rule else Facility.Category.ELDER_STATION
        context["clusters"] = cluster_list()
        context["has_basemap"] = bool(settings.BASEMAP_URL)
        return context


class ReportQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Facility.Category.values)
    district = serializers.RegexField(r"^[0-9]{6}$", required=False)
    cluster = serializers.SlugField(required=False)
    k = serializers.IntegerField(min_value=0, max_value=20, default=5)


def coverage_report(request: HttpRequest) -> HttpResponse:
    """The folium report as a standalone HTML download (400 JSON for bad parameters)."""
    query = ReportQuerySerializer(data=request.GET)
    if not query.is_valid():
        message = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in query.errors.items())
        return JsonResponse(error_body(code="invalid_parameter", message=message), status=400)
    q = query.validated_data
    try:
        html = coverage_report_html(
            category=q["category"], district_code=q.get("district"), cluster=q.get("cluster"), k=q["k"]
        )
    except ServiceError as exc:
        return JsonResponse(error_body(code=exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
                                       message=str(exc.detail)), status=exc.status_code)  # fmt: skip
    scope = q.get("district") or q.get("cluster") or "chongqing"
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="coverage-{q["category"]}-{scope}.html"'
    return response
