from django.shortcuts import redirect
from django.urls import path

from placenames import views

app_name = "placenames"


def register_redirect(request):
    return redirect("placenames:register", code=request.GET.get("district", "500103")[:6])


urlpatterns = [
    path("", views.LookupView.as_view(), name="lookup"),
    path("<int:placename_id>/", views.PlaceDetailView.as_view(), name="detail"),
    path("register/", register_redirect, name="register-redirect"),
    path("register/<str:code>/", views.RegisterView.as_view(), name="register"),
]
