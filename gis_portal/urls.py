from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from boundaries import api as boundaries_api
from gis_portal import views
from placenames import api as placenames_api

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("locate", boundaries_api.LocateView.as_view(), name="locate"),
    path("divisions", boundaries_api.DivisionListView.as_view(), name="division-list"),
    path("placenames/search", placenames_api.SearchView.as_view(), name="placename-search"),
    path("placenames/autocomplete", placenames_api.AutocompleteView.as_view(), name="placename-autocomplete"),
    path("placenames/nearby", placenames_api.NearbyView.as_view(), name="placename-nearby"),
    path("placenames/duplicates", placenames_api.DuplicatesView.as_view(), name="placename-duplicates"),
    path("placenames/export.csv", placenames_api.ExportCsvView.as_view(), name="placename-export-csv"),
    path("placenames/export.geojson", placenames_api.ExportGeoJsonView.as_view(), name="placename-export-geojson"),
    path("placenames/<int:placename_id>", placenames_api.DetailView.as_view(), name="placename-detail"),
]

urlpatterns = [
    path("", views.MapView.as_view(), name="map"),
    path("api/v1/", include(api_v1)),
    path("placenames/", include("placenames.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler404 = "gis_portal.views.not_found"
handler500 = "gis_portal.views.server_error"
