from django.http import Http404
from django.shortcuts import redirect
from django.urls import path

from placenames import views

app_name = "placenames"


def register_redirect(request):
    code = request.GET.get("district", "")
    if not (len(code) == 6 and code.isdigit()):
        raise Http404("district: a 6-digit district code")
    return redirect("placenames:register", code=code)


urlpatterns = [
    path("", views.LookupView.as_view(), name="lookup"),
    path("<int:placename_id>/", views.PlaceDetailView.as_view(), name="detail"),
    path("register/", register_redirect, name="register-redirect"),
    path("register/<str:code>/", views.RegisterView.as_view(), name="register"),
]
