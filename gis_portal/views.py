"""Pages of the project package, and the error handlers (JSON under /api/, HTML elsewhere)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.generic import TemplateView

from boundaries.selectors import cluster_list
from gis_portal.api import error_body


class MapView(TemplateView):
    """The first page: the 38 districts coloured by cluster; click to locate a point."""

    template_name = "gis_portal/map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["clusters"] = [
            {"slug": c.slug, "name": c.name, "name_en": c.name_en, "color": c.color} for c in cluster_list()
        ]
        context["has_basemap"] = bool(settings.BASEMAP_URL)
        return context


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(("/api/", "/tiles/")):
        return JsonResponse(error_body(code="not_found", message=f"No such resource: {request.path}"), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="server_error", message="Internal server error."), status=500)
    return render(request, "500.html", status=500)
