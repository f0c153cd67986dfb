"""API of survey uploads: POST /api/v1/survey-uploads (signed-in surveyors), the list and detail
(with the validation report) for the team or reviewers, and the review (reviewers)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from boundaries.surveys.models import SurveyUpload
from boundaries.surveys.parsing import ENCODINGS
from boundaries.surveys.selectors import survey_upload_get, survey_uploads_visible
from boundaries.surveys.services import (
    survey_upload_create,
    survey_upload_enqueue,
    survey_upload_review,
    survey_upload_runs_as_job,
    survey_upload_url,
)
from gis_portal.core.api import ErrorSerializer
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.throttles import FailOpen
from gis_portal.jobs.api import JobSerializer, job_accepted


class SurveyUploadSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.code")
    line_name = serializers.CharField(source="line.name")
    team = serializers.CharField(source="team.name")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    reviewed_by = serializers.CharField(source="reviewed_by.username", default=None)
    page = serializers.SerializerMethodField()

    class Meta:
        model = SurveyUpload
        fields = [
            "id",
            "line",
            "line_name",
            "team",
            "uploaded_by",
            "uploaded_at",
            "original_name",
            "sha256",
            "size_bytes",
            "file_format",
            "crs",
            "crs_source",
            "survey_date",
            "tolerance_m",
            "tolerance_source",
            "status",
            "report",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "accepted_despite_failure",
            "override_reason",
            "page",
        ]

    def get_page(self, upload: SurveyUpload) -> str:
        return survey_upload_url(upload)


class SurveyUploadCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="GPX, KML, GeoJSON, zipped Shapefile, GeoPackage or CSV")
    line = serializers.RegexField(r"^[A-Za-z0-9_-]{1,32}$", help_text="code of the boundary line")
    crs = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="EPSG code when the file does not state it: 4326, 4490, 4513-4554 (CGCS2000 Gauss-Krüger)",
    )
    encoding = serializers.ChoiceField(choices=ENCODINGS, required=False, help_text="attribute encoding")
    survey_date = serializers.DateField(required=False)


class SurveyUploadThrottle(FailOpen, UserRateThrottle):
    """Uploads per user, through the API and the upload page alike (one count in Django's cache)."""

    scope = "survey_upload"


class ToleranceNotAccepted(InvalidParameter):
    code = "tolerance_not_accepted"


class SurveyUploadListView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def get_throttles(self):
        return [SurveyUploadThrottle()] if self.request.method == "POST" else []

    @extend_schema(summary="Survey uploads you may see", responses={200: SurveyUploadSerializer(many=True)})
    def get(self, request: Request) -> Response:
        uploads = survey_uploads_visible(user=request.user)
        if request.query_params.get("status") in SurveyUpload.Status.values:
            uploads = uploads.filter(status=request.query_params["status"])
        return Response(SurveyUploadSerializer(uploads[:200], many=True).data)

    @extend_schema(
        summary="Upload field data for a line of your team",
        description=(
            "201 with the upload and its validation report. A file larger than SURVEY_UPLOAD_JOB_BYTES "
            "(1 MiB by default) is checked at once for who may upload it (403, 404), its size (413) and "
            "a duplicate (409), then validated by a job worker: the answer is 202 Accepted with the job "
            "(Location: /api/v1/jobs/{id}). Poll it: once `succeeded`, its `result` has the upload's "
            "`upload` id, `url` and `page`; once `failed`, its `error_code` and `error_status` are the "
            "code and status this request would have answered."
        ),
        request={"multipart/form-data": SurveyUploadCreateSerializer},
        responses={
            201: SurveyUploadSerializer,
            202: JobSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            413: ErrorSerializer,
            415: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
            507: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        if "tolerance_m" in request.data:
            raise ToleranceNotAccepted(
                "tolerance_m is no longer accepted: the tolerance comes from the line's level (the report "
                "states it, with its source); send the upload without it"
            )
        form = SurveyUploadCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        arguments = {
            "user": request.user,
            "line_code": data["line"],
            "file": data["file"],
            "crs": data.get("crs"),
            "encoding": data.get("encoding"),
            "survey_date": data.get("survey_date"),
        }
        if survey_upload_runs_as_job(data["file"]):
            return job_accepted(survey_upload_enqueue(**arguments))
        upload = survey_upload_create(**arguments)
        return Response(SurveyUploadSerializer(upload).data, status=status.HTTP_201_CREATED)


class SurveyUploadDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A survey upload and its validation report",
        responses={200: SurveyUploadSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SurveyUploadSerializer(survey_upload_get(user=request.user, pk=pk)).data)


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "return"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    override = serializers.BooleanField(
        required=False, default=False, help_text="accept although the report did not pass (needs override_reason)"
    )
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SurveyUploadReviewView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Accept (records the inspection, moves the markers) or return an upload",
        request=ReviewSerializer,
        responses={200: SurveyUploadSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        form = ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = survey_upload_review(
            upload=survey_upload_get(user=request.user, pk=pk),
            user=request.user,
            accept=form.validated_data["decision"] == "accept",
            comment=form.validated_data.get("comment", ""),
            override=form.validated_data["override"],
            override_reason=form.validated_data.get("override_reason", ""),
        )
        return Response(SurveyUploadSerializer(upload).data)
