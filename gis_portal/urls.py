from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from boundaries import api as boundaries_api
from facilities import api as facilities_api
from facilities import views as facilities_views
from gis_portal import views

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("locate", boundaries_api.LocateView.as_view(), name="locate"),
    path("divisions", boundaries_api.DivisionListView.as_view(), name="division-list"),
    path("facilities", facilities_api.FacilityListView.as_view(), name="facility-list"),
    path("coverage", facilities_api.CoverageView.as_view(), name="coverage"),
    path("coverage/gaps", facilities_api.CoverageGapsView.as_view(), name="coverage-gaps"),
    path("coverage/points", facilities_api.CoveragePointsView.as_view(), name="coverage-points"),
    path("coverage/suggest", facilities_api.CoverageSuggestView.as_view(), name="coverage-suggest"),
]

urlpatterns = [
    path("", views.MapView.as_view(), name="map"),
    path("coverage/", facilities_views.CoverageDashboardView.as_view(), name="coverage-dashboard"),
    path("coverage/report", facilities_views.coverage_report, name="coverage-report"),
    path("api/v1/", include(api_v1)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler404 = "gis_portal.views.not_found"
handler500 = "gis_portal.views.server_error"
