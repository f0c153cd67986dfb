"""Pages of survey uploads: upload a field file, read its validation report on a map, review it."""

import json

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from boundaries.models import BoundaryLine
from boundaries.surveys.api import SurveyUploadThrottle
from boundaries.surveys.models import SurveyUpload
from boundaries.surveys.parsing import ENCODINGS
from boundaries.surveys.selectors import survey_upload_get, survey_uploads_visible
from boundaries.surveys.services import (
    survey_upload_create,
    survey_upload_enqueue,
    survey_upload_review,
    survey_upload_runs_as_job,
)
from gis_portal.core.crs import CHONGQING_GAUSS_KRUGER, GEOGRAPHIC, crs_label
from gis_portal.core.errors import ServiceError
from gis_portal.core.roles import REVIEWER, SURVEYOR, user_has_role
from gis_portal.jobs.models import Job

CRS_CHOICES = [("", _("stated in the file"))] + [
    (str(epsg), crs_label(epsg)) for epsg in (*GEOGRAPHIC, *CHONGQING_GAUSS_KRUGER)
]


class SurveyUploadForm(forms.Form):
    line = forms.ChoiceField(label=_("Boundary line"))
    file = forms.FileField(label=_("Field file"), help_text=_("GPX, KML, GeoJSON, zipped Shapefile, GeoPackage or CSV"))
    crs = forms.ChoiceField(label=_("Coordinate reference system"), choices=CRS_CHOICES, required=False)
    encoding = forms.ChoiceField(
        label=_("Attribute encoding"),
        choices=[("", _("stated in the file"))] + [(e, e) for e in ENCODINGS],
        required=False,
    )
    survey_date = forms.DateField(label=_("Survey date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [(code, f"{code} {name}") for code, name in lines]


class SurveyHomeView(LoginRequiredMixin, View):
    """The upload form (surveyors: lines of their teams) and the uploads the user may see. A file
    over SURVEY_UPLOAD_JOB_BYTES is validated by a job: the page answers 202 with the job's URL
    (Location) and its script follows the job to the upload or the refusal."""

    template = "surveys/surveys.html"

    def context(self, request: HttpRequest, form: SurveyUploadForm | None) -> dict:
        return {
            "form": form,
            "uploads": survey_uploads_visible(user=request.user)[:100],
            "is_reviewer": user_has_role(request.user, REVIEWER),
        }

    def form(self, request: HttpRequest, *, bound: bool = True) -> SurveyUploadForm | None:
        if not user_has_role(request.user, SURVEYOR):
            return None
        lines = BoundaryLine.objects.filter(teams__members=request.user).order_by("code").values_list("code", "name")
        if not bound:
            return SurveyUploadForm(lines=lines)
        return SurveyUploadForm(request.POST or None, request.FILES or None, lines=lines)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template, self.context(request, self.form(request)))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request)
        if form is None:
            context = self.context(request, None) | {"error": _("Only members of a survey team upload field data.")}
            return render(request, self.template, context, status=403)
        throttle = SurveyUploadThrottle()
        if not throttle.allow_request(request, self):
            wait = throttle.wait()
            message = _("Too many uploads: try again in %(seconds)d s.") % {"seconds": wait or 60}
            response = render(request, self.template, self.context(request, form) | {"error": message}, status=429)
            response["Retry-After"] = str(int(wait or 60))
            return response
        if not form.is_valid():
            return render(request, self.template, self.context(request, form), status=400)
        data = form.cleaned_data
        arguments = {
            "user": request.user,
            "line_code": data["line"],
            "file": data["file"],
            "crs": data["crs"] or None,
            "encoding": data["encoding"] or None,
            "survey_date": data["survey_date"],
        }
        try:
            if survey_upload_runs_as_job(data["file"]):
                return self.job_accepted(request, survey_upload_enqueue(**arguments))
            upload = survey_upload_create(**arguments)
        except ServiceError as exc:
            context = self.context(request, form) | {"error": exc.message, "details": exc.details}
            return render(request, self.template, context, status=exc.status)
        return redirect("survey-upload-detail", pk=upload.pk)

    def job_accepted(self, request: HttpRequest, job: Job) -> HttpResponse:
        """202: the page with a fresh form and the queued job, which its script follows to the
        upload or the refusal; Location is the job's URL, as the API answers."""
        job_url = reverse("job-detail", args=[job.pk])
        context = self.context(request, self.form(request, bound=False)) | {"job": job, "job_url": job_url}
        response = render(request, self.template, context, status=202)
        response["Location"] = job_url
        return response


class SurveyUploadPageView(LoginRequiredMixin, View):
    """The validation report of one upload on a map, and the review form for reviewers."""

    def render_page(
        self, request: HttpRequest, upload: SurveyUpload, *, error: str = "", status: int = 200
    ) -> HttpResponse:
        features = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(f.geom.geojson),
                    "properties": {"kind": f.kind, "number": f.number, "displacement_m": f.displacement_m},
                }
                for f in upload.features.all()
            ],
        }
        context = {
            "upload": upload,
            "report": upload.report,
            "line_geojson": json.loads(upload.line.geom.simplify(0.00005, preserve_topology=True).geojson),
            "features_geojson": features,
            "can_review": user_has_role(request.user, REVIEWER)
            and upload.status == SurveyUpload.Status.VALIDATED
            and upload.uploaded_by_id != request.user.pk,
            "own_upload": upload.uploaded_by_id == request.user.pk,
            "error": error,
        }
        return render(request, "surveys/survey_upload.html", context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_page(request, survey_upload_get(user=request.user, pk=pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        upload = survey_upload_get(user=request.user, pk=pk)
        try:
            survey_upload_review(
                upload=upload,
                user=request.user,
                accept=request.POST.get("decision") == "accept",
                comment=request.POST.get("comment", "")[:2000],
                override=request.POST.get("override") == "on",
                override_reason=request.POST.get("override_reason", "")[:2000],
            )
        except ServiceError as exc:
            return self.render_page(request, upload, error=exc.message, status=exc.status)
        return redirect("survey-upload-detail", pk=pk)
