"""Page URLs of the gazetteer under /placenames/ (its API is routed with the portal's /api/v1/)."""

from django.urls import include, path

from placenames import views

app_name = "placenames"

urlpatterns = [
    path("", views.LookupView.as_view(), name="lookup"),
    path("<int:placename_id>/", views.PlaceDetailView.as_view(), name="detail"),
    path("register/", views.register_redirect, name="register-redirect"),
    path("register/<str:code>/", views.RegisterView.as_view(), name="register"),
    path("", include("placenames.office.urls")),
]
