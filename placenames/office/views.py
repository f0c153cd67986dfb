"""Pages of the place-name office: the public suggestion form, the public notices (公示) with their
comments, the naming officers' desk (check, notice, decide, publish, with the audit trail), the signs
needing work on a map and the phone-sized sign check for survey teams, the heritage names, the
officers' edit of a name's meaning and history, and a district's printed register as PDF."""

import datetime

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from boundaries.models import Division
from gis_portal.core.errors import Forbidden, InvalidParameter, ServiceError
from gis_portal.core.roles import NAMING_OFFICER, SURVEYOR, user_has_role
from gis_portal.core.throttles import heavy_request
from placenames.models import PlaceName
from placenames.office.api import NamingSuggestThrottle
from placenames.office.models import NamingApplication, ObjectType, Sign
from placenames.office.register import district_register_pdf
from placenames.office.selectors import (
    application_dict,
    application_get,
    application_public,
    applications_for_officer,
    heritage_feature,
    heritage_list,
    notices_current,
    sign_feature,
    sign_get,
    signs_needing_work,
)
from placenames.office.services import (
    application_decide,
    application_publish,
    application_recheck,
    application_submit,
    location_from_lonlat,
    notice_comment_add,
    notice_open,
    placename_story_edit,
)
from placenames.office.signs import sign_check_report

TEXT = forms.Textarea(attrs={"rows": 3})


class SuggestionForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object named"), choices=ObjectType.choices)
    name = forms.CharField(label=_("Proposed name"), max_length=256, required=False, strip=False)
    specific = forms.CharField(label=_("Specific part (专名)"), max_length=64, required=False)
    generic = forms.CharField(label=_("Generic part (通名)"), max_length=32, required=False)
    lon = forms.CharField(label=_("Longitude"), max_length=32)
    lat = forms.CharField(label=_("Latitude"), max_length=32)
    reason = forms.CharField(label=_("Reason"), widget=TEXT, required=False, max_length=2000)
    meaning = forms.CharField(label=_("Meaning (含义)"), widget=TEXT, required=False, max_length=2000)
    origin = forms.CharField(label=_("Origin (由来)"), widget=TEXT, required=False, max_length=2000)
    submitter_name = forms.CharField(label=_("Your name"), max_length=64, required=False)
    submitter_contact = forms.CharField(label=_("Contact"), max_length=128, required=False)


class SuggestView(View):
    """Anyone suggests a name: the form, and after it the automatic findings."""

    template = "office/suggest.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template, {"form": SuggestionForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SuggestionForm(request.POST)
        throttle = NamingSuggestThrottle()
        if not throttle.allow_request(request, self):
            message = _("Too many suggestions from here: try again later.")
            return render(request, self.template, {"form": form, "error": message}, status=429)
        if not form.is_valid():
            return render(request, self.template, {"form": form}, status=400)
        data = dict(form.cleaned_data)
        try:
            location = location_from_lonlat(data.pop("lon"), data.pop("lat"))
            application = application_submit(kind="name", location=location, user=request.user, **data)
        except ServiceError as exc:
            return render(request, self.template, {"form": form, "error": exc.message}, status=exc.status)
        return render(request, "office/submitted.html", {"application": application})


class NoticeListView(TemplateView):
    template_name = "office/notices.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["notices"] = notices_current(today=timezone.localdate())[:200]
        context["today"] = timezone.localdate()
        return context


class NoticeDetailView(View):
    template = "office/notice.html"

    def render_page(self, request, application, *, error="", status=200):
        context = {
            "application": application,
            "data": application_dict(application),
            "open_for_comments": application.status == NamingApplication.Status.NOTICE
            and application.notice_start <= timezone.localdate() <= application.notice_end,
            "error": error,
        }
        return render(request, self.template, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_page(request, application_public(pk=pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = application_public(pk=pk)
        throttle = NamingSuggestThrottle()
        if not throttle.allow_request(request, self):
            return self.render_page(request, application, error=_("Too many comments: try again later."), status=429)
        try:
            notice_comment_add(
                application=application,
                author=request.POST.get("author", "")[:64],
                text=request.POST.get("text", "")[:2001],
            )
        except ServiceError as exc:
            return self.render_page(request, application, error=exc.message, status=exc.status)
        return redirect("placenames:office:notice", pk=pk)


class OfficerMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_has_role(request.user, NAMING_OFFICER):
            raise Forbidden("only naming officers work here")
        return super().dispatch(request, *args, **kwargs)


class OfficeDeskView(OfficerMixin, TemplateView):
    template_name = "office/desk.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        status = status if status in NamingApplication.Status.values else ""
        context["applications"] = applications_for_officer(status=status or None)[:300]
        context["statuses"] = NamingApplication.Status.choices
        context["status"] = status
        return context


class ApplicationOfficeView(OfficerMixin, View):
    """One application for an officer: findings, comments, the audit trail and the next step."""

    template = "office/application.html"

    def render_page(self, request, application, *, error="", status=200):
        today = timezone.localdate()
        context = {
            "application": application,
            "data": application_dict(application, internal=True),
            "today": today,
            "notice_end_default": today + datetime.timedelta(days=7),
            "error": error,
        }
        return render(request, self.template, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_page(request, application_get(pk=pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = application_get(pk=pk)
        step = request.POST.get("step", "")
        try:
            if step == "notice":
                notice_open(
                    application=application,
                    actor=request.user,
                    start=_date(request.POST.get("start"), "start"),
                    end=_date(request.POST.get("end"), "end"),
                )
            elif step == "decide":
                application_decide(
                    application=application,
                    actor=request.user,
                    approve=request.POST.get("decision") == "approve",
                    reason=request.POST.get("reason", "")[:2001],
                )
            elif step == "publish":
                effective = request.POST.get("effective_on")
                application_publish(
                    application=application,
                    actor=request.user,
                    effective_on=_date(effective, "effective_on") if effective else None,
                    approval_ref=request.POST.get("approval_ref", "")[:129],
                )
            elif step == "recheck":
                application_recheck(application=application, actor=request.user)
            else:
                return self.render_page(request, application, error=_("Unknown step."), status=400)
        except ServiceError as exc:
            application.refresh_from_db()
            return self.render_page(request, application, error=exc.message, status=exc.status)
        return redirect("placenames:office:application", pk=pk)


def _date(value: str | None, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        raise InvalidParameter(f"{field}: a date YYYY-MM-DD") from None


class SignsView(TemplateView):
    """Signs missing, damaged or with wrong text: a list and a map layer."""

    template_name = "office/signs.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        signs = signs_needing_work()
        context["signs"] = signs[:500]
        context["count"] = signs.count()
        context["is_surveyor"] = user_has_role(self.request.user, SURVEYOR)
        return context


class SignCheckForm(forms.Form):
    condition = forms.ChoiceField(label=_("Condition"), choices=Sign.Condition.choices)
    text_chinese = forms.CharField(label=_("Chinese text read"), max_length=64, required=False)
    text_pinyin = forms.CharField(label=_("Pinyin read"), max_length=160, required=False)
    note = forms.CharField(label=_("Note"), widget=TEXT, required=False, max_length=2000)
    photo = forms.FileField(label=_("Photo"), required=False)


class SignCheckView(LoginRequiredMixin, View):
    """The phone-sized page a survey team member fills in at the sign."""

    template = "office/sign_check.html"

    def context(self, sign, form, **extra):
        return {"sign": sign, "feature": sign_feature(sign), "form": form, **extra}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        sign = sign_get(pk=pk)
        return render(request, self.template, self.context(sign, SignCheckForm()))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        sign = sign_get(pk=pk)
        form = SignCheckForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template, self.context(sign, form), status=400)
        try:
            sign_check_report(sign=sign, user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            return render(request, self.template, self.context(sign, form, error=exc.message), status=exc.status)
        sign.refresh_from_db()
        return render(request, self.template, self.context(sign, SignCheckForm(), saved=True))


class HeritageView(TemplateView):
    template_name = "office/heritage.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = list(heritage_list())
        context["items"] = items
        context["collection"] = {"type": "FeatureCollection", "features": [heritage_feature(h) for h in items]}
        return context


class StoryEditView(OfficerMixin, View):
    template = "office/story.html"

    def get(self, request: HttpRequest, placename_id: int) -> HttpResponse:
        place = get_object_or_404(PlaceName, pk=placename_id)
        return render(
            request, self.template, {"place": place, "versions": place.history.order_by("-history_date")[:20]}
        )

    def post(self, request: HttpRequest, placename_id: int) -> HttpResponse:
        place = get_object_or_404(PlaceName, pk=placename_id)
        try:
            placename_story_edit(
                placename=place,
                actor=request.user,
                meaning=request.POST.get("meaning", "")[:4001],
                history_text=request.POST.get("history_text", "")[:8001],
            )
        except ServiceError as exc:
            context = {"place": place, "versions": place.history.order_by("-history_date")[:20], "error": exc.message}
            return render(request, self.template, context, status=exc.status)
        return redirect("placenames:detail", placename_id=place.pk)


class RegisterPdfView(View):
    """A district's printed register (标准地名图录典志) as PDF; a heavy request (one slot)."""

    @heavy_request
    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        district = get_object_or_404(Division, code=code, level=Division.Level.DISTRICT)
        response = HttpResponse(district_register_pdf(district=district), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="register-{district.code}.pdf"'
        return response
