"""API of the place-name office under /api/v1/naming/ (routed by the portal's urls): naming
applications (anyone submits and comments on notices; naming officers check, notice, decide and
publish), the public notices, signs needing work (GeoJSON) and sign checks with a photo (survey
teams), heritage names (GeoJSON). Geometries are GeoJSON in EPSG:4326."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boundaries.selectors import district_by_code
from gis_portal.core.api import ErrorSerializer, query_validate
from gis_portal.core.errors import Forbidden, InvalidParameter
from gis_portal.core.formats import geojson_collection
from gis_portal.core.region import division_code_validator
from gis_portal.core.roles import NAMING_OFFICER, user_has_role
from gis_portal.core.throttles import RoleRateThrottle
from gis_portal.jobs.api import JobSerializer, job_accepted
from gis_portal.jobs.services import job_enqueue
from placenames.naming_rules import NAME_MAX_LENGTH
from placenames.office.models import NamingApplication, ObjectType, Sign
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
    location_parse,
    notice_comment_add,
    notice_open,
)
from placenames.office.signs import sign_check_report
from placenames.office.tasks import REGISTER_JOB

SYNTHETIC_NOTE = "Signs and applications with is_synthetic=true are generated for the demo."


class NamingSuggestThrottle(RoleRateThrottle):
    """Suggestions and notice comments: per address for the public, per user when signed in."""

    scope = "naming_suggest"


class ApplicationInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NamingApplication.Kind.choices, default=NamingApplication.Kind.NAME)
    object_type = serializers.ChoiceField(choices=ObjectType.choices)
    # Length and emptiness are checked by the service (one message for the API and the page).
    name = serializers.CharField(allow_blank=True, max_length=NAME_MAX_LENGTH * 4, trim_whitespace=False)
    specific = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    generic = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    location = serializers.JSONField(required=False, help_text="GeoJSON Point or LineString, WGS84")
    placename_id = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    meaning = serializers.CharField(required=False, allow_blank=True, default="")
    origin = serializers.CharField(required=False, allow_blank=True, default="")
    submitter_name = serializers.CharField(required=False, allow_blank=True, default="")
    submitter_contact = serializers.CharField(required=False, allow_blank=True, default="")


def _body(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _dict(application: NamingApplication, request: Request) -> dict:
    return application_dict(application, internal=user_has_role(request.user, NAMING_OFFICER))


class ApplicationListView(APIView):
    permission_classes = [AllowAny]

    def get_throttles(self):
        return [NamingSuggestThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="naming_applications_list",
        summary="Naming applications (naming officers): all, or of one status",
        responses={200: OpenApiTypes.OBJECT, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        if not user_has_role(request.user, NAMING_OFFICER):
            raise Forbidden("only naming officers list applications")
        status = request.query_params.get("status") or None
        if status and status not in NamingApplication.Status.values:
            raise InvalidParameter(f"status: one of {', '.join(NamingApplication.Status.values)}")
        return Response([application_dict(a) for a in applications_for_officer(status=status)[:500]])

    @extend_schema(
        summary="Submit a naming, renaming or cancellation suggestion (anyone); checked at once",
        request=ApplicationInSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _body(ApplicationInSerializer, request)
        location = data.pop("location", None)
        application = application_submit(
            **data,
            location=location_parse(location) if location is not None else None,
            user=request.user,
        )
        return Response(_dict(application, request), status=201)


class ApplicationDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="One application: the public sees it from its public notice on, officers always",
        responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        if user_has_role(request.user, NAMING_OFFICER):
            return Response(application_dict(application_get(pk=pk), internal=True))
        return Response(application_dict(application_public(pk=pk)))


class NoticeInSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class DecisionInSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)


class PublishInSerializer(serializers.Serializer):
    effective_on = serializers.DateField(required=False)
    approval_ref = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)


class CommentInSerializer(serializers.Serializer):
    author = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    text = serializers.CharField(max_length=2000)


class _OfficerStep(APIView):
    permission_classes = [IsAuthenticated]


class NoticeOpenView(_OfficerStep):
    @extend_schema(
        summary="Put a checked application under public notice (naming officers)",
        request=NoticeInSerializer,
        responses={200: OpenApiTypes.OBJECT, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(NoticeInSerializer, request)
        application = notice_open(application=application_get(pk=pk), actor=request.user, **data)
        return Response(_dict(application, request))


class DecisionView(_OfficerStep):
    @extend_schema(
        summary="Approve or reject with reasons (naming officers)",
        request=DecisionInSerializer,
        responses={200: OpenApiTypes.OBJECT, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(DecisionInSerializer, request)
        application = application_decide(application=application_get(pk=pk), actor=request.user, **data)
        return Response(_dict(application, request))


class PublishView(_OfficerStep):
    @extend_schema(
        summary="Publish an approved application (naming officers)",
        request=PublishInSerializer,
        responses={200: OpenApiTypes.OBJECT, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(PublishInSerializer, request)
        application = application_get(pk=pk)
        placename = application_publish(application=application, actor=request.user, **data)
        application.refresh_from_db()
        return Response(_dict(application, request) | {"placename_id": placename.pk})


class RecheckView(_OfficerStep):
    @extend_schema(
        summary="Run the automatic checks again (naming officers)",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        application = application_recheck(application=application_get(pk=pk), actor=request.user)
        return Response(_dict(application, request))


class CommentView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [NamingSuggestThrottle]

    @extend_schema(
        summary="Comment on an application under public notice (anyone)",
        request=CommentInSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(CommentInSerializer, request)
        comment = notice_comment_add(application=application_public(pk=pk), **data)
        return Response({"author": comment.author, "text": comment.text, "at": comment.at}, status=201)


class NoticeListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Applications under public notice (公示), with their dates",
        responses={200: {"type": "array", "items": {"type": "object"}}},  # a list of applications
    )
    def get(self, request: Request) -> Response:
        return Response([application_dict(a) for a in notices_current(today=timezone.localdate())[:200]])


class SignQuerySerializer(serializers.Serializer):
    district = serializers.CharField(required=False, validators=[division_code_validator("district")])
    problems = serializers.BooleanField(required=False, default=True, help_text="only missing, damaged or wrong signs")


class SignListView(APIView):
    @extend_schema(
        operation_id="naming_signs_list",
        summary="Place-name signs (GeoJSON): by default those missing, damaged or wrong",
        parameters=[SignQuerySerializer],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = query_validate(SignQuerySerializer, request)
        district = district_by_code(code=query["district"]) if query.get("district") else None
        if query["problems"]:
            signs = signs_needing_work(district=district)
        else:
            signs = Sign.objects.select_related("placename", "district")
            if district is not None:
                signs = signs.filter(district=district)
        return Response(geojson_collection([sign_feature(s) for s in signs[:5000]], note=SYNTHETIC_NOTE))


class SignDetailView(APIView):
    @extend_schema(
        summary="One sign with its text findings", responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(sign_feature(sign_get(pk=pk)))


class SignCheckInSerializer(serializers.Serializer):
    condition = serializers.ChoiceField(choices=Sign.Condition.choices)
    checked_on = serializers.DateField(required=False)
    text_chinese = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    text_pinyin = serializers.CharField(required=False, allow_blank=True, default="", max_length=160)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SignCheckView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="Report a sign check with a photo (survey teams); multipart with 'photo'",
        request=SignCheckInSerializer,
        responses={
            201: OpenApiTypes.OBJECT,
            400: ErrorSerializer,
            403: ErrorSerializer,
            413: ErrorSerializer,
            415: ErrorSerializer,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(SignCheckInSerializer, request)
        sign = sign_get(pk=pk)
        check = sign_check_report(sign=sign, user=request.user, photo=request.FILES.get("photo"), **data)
        sign.refresh_from_db()
        return Response({"check_id": check.pk, "sign": sign_feature(sign)}, status=201)


class HeritageListView(APIView):
    @extend_schema(summary="Heritage names (地名文化遗产) as GeoJSON", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(geojson_collection([heritage_feature(h) for h in heritage_list()]))


class RegisterPdfJobView(APIView):
    """A district's printed register made by a job worker (signed-in users): 202 with the job, whose
    file is the PDF once it has succeeded."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Start a district's printed register (PDF) as a job: 202 with the job's URL to poll",
        description="The job's `result_url` is the PDF once `status` is `succeeded`.",
        request=None,
        responses={202: JobSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request, code: str) -> Response:
        district = district_by_code(code=code)  # an unknown code: 400 now, nothing queued
        job = job_enqueue(kind=REGISTER_JOB, params={"district_code": district.code}, owner=request.user)
        return job_accepted(job)
