"""API of the division change proposals (行政区划调整方案): /api/v1/division-proposals (list, create),
/api/v1/division-proposals/{id} (read, edit a draft) and the workflow's steps
(/submit, /withdraw, /approve, /reject, /apply). Who may do what is the services' (planners draft
and submit; administrators decide and apply); who may read what is ``proposals_visible``."""

import json

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boundaries.models import Division
from boundaries.proposal_models import DivisionProposal
from boundaries.proposal_services import (
    proposal_apply,
    proposal_create,
    proposal_decide,
    proposal_get,
    proposal_submit,
    proposal_update,
    proposal_withdraw,
    proposals_visible,
)
from gis_portal.core.api import ErrorSerializer
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter


class DivisionProposalSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    approver = serializers.CharField(source="approver.username", read_only=True, allow_null=True, default=None)
    impact = serializers.JSONField(
        read_only=True,
        allow_null=True,
        help_text="computed at submission: units, area_m2 (sum, geodesic), union_area_m2, population, "
        "elderly_population, villages, lines_retired, lines_joined (or lines_renamed), names_that_change, "
        "standards (the check against the establishment standards), new_unit; a split: parts, lines_moved, "
        "lines_cut, line_between_m; a move of villages: units (source, target before), units_after (with "
        "standards), villages_moved, moved, lines_to_target, lines_changed, line_between_m",
    )
    result = serializers.JSONField(
        read_only=True, allow_null=True, help_text="what applying it did: new_unit, replaced, lines retired and joined"
    )
    split_line = serializers.SerializerMethodField(help_text="a split's line, GeoJSON LineString (WGS84), or null")

    class Meta:
        model = DivisionProposal
        fields = [
            "id",
            "kind",
            "status",
            "title",
            "reason",
            "district_code",
            "units",
            "new_name",
            "new_code",
            "new_kind",
            "stated_figures",
            "split_line",
            "villages",
            "target_code",
            "effective_date",
            "impact",
            "result",
            "decision_note",
            "author",
            "approver",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "applied_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_split_line(self, proposal) -> dict | None:
        return json.loads(proposal.split_line.geojson) if proposal.split_line else None


class ProposalInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DivisionProposal.Kind.choices)
    units = serializers.ListField(
        child=serializers.CharField(max_length=12), min_length=1, max_length=20, help_text="9-digit township codes"
    )
    new_name = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    new_code = serializers.CharField(
        required=False, allow_blank=True, max_length=12, default="", help_text="empty: a provisional code"
    )
    new_kind = serializers.ChoiceField(
        choices=[(k, Division.Kind(k).label) for k in DivisionProposal.NEW_KINDS],
        required=False,
        allow_blank=True,
        default="",
        help_text="a merger's new unit: township, town or street",
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=128, default="")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    stated_figures = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        default=dict,
        help_text="the establishment standards' figures the service does not hold, e.g. fiscal revenue",
    )
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)
    split_line = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="a split: the line across the unit, GeoJSON LineString"
    )

    villages = serializers.ListField(
        child=serializers.CharField(max_length=12),
        required=False,
        default=list,
        max_length=200,
        help_text="a move of villages: the 12-digit codes of the source township's villages moved",
    )
    target_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=12,
        default="",
        help_text="a move of villages: the 9-digit code of the neighbouring township that receives them",
    )

    def validate_split_line(self, value) -> GEOSGeometry | None:
        if value is None:
            return None
        try:
            line = GEOSGeometry(json.dumps(value), srid=WGS84)
        except (GEOSException, GDALException, ValueError, TypeError):
            raise serializers.ValidationError("a GeoJSON LineString in WGS84") from None
        if line.geom_type != "LineString" or not line.valid:
            raise serializers.ValidationError("a GeoJSON LineString in WGS84")
        return line


class ProposalDecisionInSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)


class ProposalApplyInSerializer(serializers.Serializer):
    effective_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="default: the approved day"
    )


def _body(serializer_class, request: Request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _out(proposal: DivisionProposal) -> dict:
    return DivisionProposalSerializer(proposal).data


STATUS_PARAMETER = OpenApiParameter("status", str, enum=DivisionProposal.Status.values, description="only this status")


class ProposalListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="division_proposals_list",
        summary="Division change proposals you may read (the public: approved and effective ones)",
        parameters=[STATUS_PARAMETER],
        responses={200: DivisionProposalSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        proposals = proposals_visible(user=request.user)
        status = request.query_params.get("status")
        if status:
            if status not in DivisionProposal.Status.values:
                raise InvalidParameter(f"status: one of {', '.join(DivisionProposal.Status.values)}")
            proposals = proposals.filter(status=status)
        return Response([_out(p) for p in proposals[:500]])

    @extend_schema(
        summary="Draft a division change proposal (planners)",
        request=ProposalInSerializer,
        responses={201: DivisionProposalSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        proposal = proposal_create(author=request.user, **_body(ProposalInSerializer, request))
        return Response(_out(proposal), status=201)


class ProposalDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="One proposal, with its impact and what applying it did",
        responses={200: DivisionProposalSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_out(proposal_get(pk=pk, user=request.user)))

    @extend_schema(
        summary="Edit a draft (its author)",
        request=ProposalInSerializer(partial=True),
        responses={200: DivisionProposalSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        proposal = proposal_get(pk=pk, user=request.user)
        # Only the fields sent (a partial serializer still fills in the defaults of the others).
        body = _body(ProposalInSerializer, request, partial=True)
        changes = {key: value for key, value in body.items() if key in request.data}
        return Response(_out(proposal_update(proposal=proposal, actor=request.user, **changes)))


class _Step(APIView):
    permission_classes = [IsAuthenticated]


STEP_RESPONSES = {
    200: DivisionProposalSerializer,
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class ProposalSubmitView(_Step):
    @extend_schema(
        summary="Submit a draft (its author): the impact is computed and stored; 400 naming why it cannot be done",
        request=None,
        responses=STEP_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        proposal = proposal_get(pk=pk, user=request.user)
        return Response(_out(proposal_submit(proposal=proposal, actor=request.user, today=timezone.localdate())))


class ProposalWithdrawView(_Step):
    @extend_schema(
        summary="Withdraw a draft or a submitted proposal (its author)", request=None, responses=STEP_RESPONSES
    )
    def post(self, request: Request, pk: int) -> Response:
        proposal = proposal_get(pk=pk, user=request.user)
        return Response(_out(proposal_withdraw(proposal=proposal, actor=request.user)))


class ProposalApproveView(_Step):
    @extend_schema(
        summary="Approve a submitted proposal (administrators), with its effective date",
        request=ProposalDecisionInSerializer,
        responses=STEP_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(ProposalDecisionInSerializer, request)
        proposal = proposal_get(pk=pk, user=request.user)
        return Response(_out(proposal_decide(proposal=proposal, actor=request.user, approve=True, **data)))


class ProposalRejectView(_Step):
    @extend_schema(
        summary="Reject a submitted or approved proposal (administrators), with the reason",
        request=ProposalDecisionInSerializer,
        responses=STEP_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(ProposalDecisionInSerializer, request)
        proposal = proposal_get(pk=pk, user=request.user)
        return Response(_out(proposal_decide(proposal=proposal, actor=request.user, approve=False, note=data["note"])))


class ProposalApplyView(_Step):
    @extend_schema(
        summary="Apply an approved proposal (administrators): now if its day has come, else on that day",
        description="One transaction: the new units and their versions, the changes, the areas, the township "
        "lines (retired, joined, their inspection history carried). A future day is only set; "
        "`manage.py apply_due_proposals` applies it then.",
        request=ProposalApplyInSerializer,
        responses=STEP_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _body(ProposalApplyInSerializer, request)
        proposal = proposal_get(pk=pk, user=request.user)
        applied = proposal_apply(
            proposal=proposal, actor=request.user, today=timezone.localdate(), effective_date=data["effective_date"]
        )
        return Response(_out(applied))
