"""Public pages of the gazetteer: the look-up page, a place's detail page and the printable
standard place-name list (地名录) of a district, with the redirect of its district form."""

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from boundaries.models import Division
from gis_portal.core.region import CODE_DIGITS, division_code_pattern
from gis_portal.core.roles import NAMING_OFFICER, user_has_role
from placenames.models import PlaceName, PlaceNameVariant
from placenames.selectors import placename_detail, placename_district_list


class LookupView(TemplateView):
    """Search box with type-ahead, results with their hierarchy, and a map; ``?q=`` is shareable."""

    template_name = "placenames/lookup.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.request.GET.get("q", "")[:200]
        context["districts"] = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code")
        return context


class PlaceDetailView(TemplateView):
    template_name = "placenames/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        place = placename_detail(placename_id=kwargs["placename_id"])
        context["place"] = place
        context["feature_class_label"] = PlaceName.FeatureClass(place["feature_class"]).label
        kinds = dict(PlaceNameVariant.Kind.choices)
        for variant in place["variants"]:
            variant["kind_label"] = kinds.get(variant["kind"], variant["kind"])
        context["former"] = [v for v in place["variants"] if v["kind"] == "former"]
        context["others"] = [v for v in place["variants"] if v["kind"] != "former"]
        context["can_edit_story"] = user_has_role(self.request.user, NAMING_OFFICER)
        return context


class RegisterView(TemplateView):
    """地名录: the standard names of one district, printable (name, pinyin, code, class)."""

    template_name = "placenames/register.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        district = get_object_or_404(Division, code=kwargs["code"], level=Division.Level.DISTRICT)
        context["district"] = district
        context["names"] = placename_district_list(district=district)
        return context


def register_redirect(request: HttpRequest) -> HttpResponse:
    """The district form of the 地名录 (``?district=500103``) to the district's register page."""
    code = request.GET.get("district", "")
    if not re.fullmatch(division_code_pattern("district"), code):
        raise Http404(f"district: a {CODE_DIGITS['district']}-digit district code")
    return redirect("placenames:register", code=code)
