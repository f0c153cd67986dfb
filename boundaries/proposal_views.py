"""Pages of the division change proposals: the list, one proposal with its impact and the workflow's
buttons for the signed-in user's role (each a form posted to ``ProposalStepView``, which calls the
service and comes back to the proposal). Drafting is through the API."""

import datetime

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from boundaries.proposal_models import DivisionProposal
from boundaries.proposal_services import (
    proposal_apply,
    proposal_decide,
    proposal_get,
    proposal_submit,
    proposal_withdraw,
    proposals_visible,
    user_is_approver,
)
from gis_portal.core.errors import InvalidParameter, NotFound

Status = DivisionProposal.Status


class ProposalListPageView(TemplateView):
    template_name = "boundaries/proposals.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["proposals"] = proposals_visible(user=self.request.user)[:500]
        return context


class ProposalPageView(TemplateView):
    template_name = "boundaries/proposal.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        proposal = proposal_get(pk=kwargs["pk"], user=user)
        own = user.is_authenticated and proposal.author_id == user.pk
        approver = user_is_approver(user)
        context.update(
            proposal=proposal,
            impact=proposal.impact or {},
            result=proposal.result or {},
            can_submit=own and proposal.status == Status.DRAFT,
            can_withdraw=own and proposal.status in (Status.DRAFT, Status.SUBMITTED),
            can_decide=approver and proposal.status == Status.SUBMITTED,
            can_reject=approver and proposal.status in (Status.SUBMITTED, Status.APPROVED),
            can_apply=approver and proposal.status == Status.APPROVED,
            today=timezone.localdate(),
        )
        return context


def _date(raw: str | None) -> datetime.date | None:
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter(f"effective_date: {raw[:20]!r} is not a date (YYYY-MM-DD)") from None


class ProposalStepView(LoginRequiredMixin, View):
    """One step of the workflow from the proposal's page (the services check the role and status)."""

    def post(self, request, pk: int, step: str):
        proposal = proposal_get(pk=pk, user=request.user)
        today = timezone.localdate()
        day = _date(request.POST.get("effective_date"))
        note = request.POST.get("note", "")[:4000]
        if step == "submit":
            proposal_submit(proposal=proposal, actor=request.user, today=today)
        elif step == "withdraw":
            proposal_withdraw(proposal=proposal, actor=request.user)
        elif step == "approve":
            proposal_decide(proposal=proposal, actor=request.user, approve=True, note=note, effective_date=day)
        elif step == "reject":
            proposal_decide(proposal=proposal, actor=request.user, approve=False, note=note)
        elif step == "apply":
            proposal_apply(proposal=proposal, actor=request.user, today=today, effective_date=day)
        else:
            raise NotFound(f"no step {step[:20]!r}")
        return redirect("division-proposal-page", pk=pk)
