"""Pages of the project package, and the error handlers (JSON under /api/, HTML elsewhere)."""

import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.generic import TemplateView

from boundaries.history_selectors import division_history_range
from boundaries.models import BoundaryLine, Marker
from boundaries.selectors import cluster_list
from facilities.models import Facility
from facilities.selectors import coverage_standard_list
from gis_portal.core.api import error_body
from gis_portal.core.pages import database_unreachable, unavailable_response

# Colours of the point and line layers (ColorBrewer Set1/Dark2-like, readable on the pale map).
CATEGORY_COLORS = {
    "elder_institution": "#e41a1c",
    "elder_centre": "#377eb8",
    "elder_station": "#4daf4a",
    "rural_care_home": "#984ea3",
    "funeral_home": "#ff7f00",
    "cemetery": "#a65628",
    "columbarium": "#f781bf",
    "service_centre": "#17becf",
}
LINE_STATUS_COLORS = {"clear": "#2b8cbe", "problem": "#fd8d3c", "disputed": "#e31a1c"}
MARKER_STATUS_COLORS = {
    "intact": "#31a354",
    "damaged": "#fd8d3c",
    "lost": "#e31a1c",
    "displaced": "#756bb1",
    "replaced": "#636363",
}


class MapView(TemplateView):
    """The planners' map: every layer (districts by cluster; townships, villages, place names,
    facilities, boundary lines and markers as vector tiles; coverage gaps as GeoJSON), a cluster
    filter, search, click to locate, and the view kept in the URL hash."""

    template_name = "portal/map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["clusters"] = [
            {"slug": c.slug, "name": c.name, "name_en": c.name_en, "color": c.color} for c in cluster_list()
        ]
        context["has_basemap"] = bool(settings.BASEMAP_URL)
        history = division_history_range()
        context["history_start"] = history[0].isoformat() if history else ""
        with_standard = set(coverage_standard_list().values_list("category", flat=True))
        context["gap_categories"] = [
            {"value": v, "label": str(label)} for v, label in Facility.Category.choices if v in with_standard
        ]
        context["legend"] = {
            "categories": [
                {"value": v, "label": str(label), "color": CATEGORY_COLORS[v]} for v, label in Facility.Category.choices
            ],
            "line_statuses": [
                {"value": v, "label": str(label), "color": LINE_STATUS_COLORS[v]}
                for v, label in BoundaryLine.Status.choices
            ],
            "marker_statuses": [
                {"value": v, "label": str(label), "color": MARKER_STATUS_COLORS[v]}
                for v, label in Marker.Status.choices
            ],
        }
        return context


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(("/api/", "/tiles/")):
        return JsonResponse(error_body(code="not_found", message=f"No such resource: {request.path}"), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if database_unreachable(sys.exc_info()[1]):  # raised outside a view (a middleware, a template)
        return unavailable_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="server_error", message="Internal server error."), status=500)
    return render(request, "500.html", status=500)
