"""The workflow of division change proposals (行政区划调整方案): a planner drafts and edits a
proposal, submits it (its impact is computed and stored then; an invalid proposal is refused with
the reason), an administrator approves or rejects it, and an approved proposal is applied on its
effective date (``boundaries.proposal_apply``), at once when that day has come, else by
``manage.py apply_due_proposals`` on the day (the current tables always show today's state; dated
queries show the change from its day on once it is applied).

Every step saves the proposal with its actor and the step as the change reason, which
django-simple-history records (the audit page lists them). Status changes:
draft → submitted → approved → effective; draft or submitted → withdrawn (by the author);
submitted → rejected; approved → rejected (before it is applied)."""

import datetime
import logging
import re

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from boundaries.history_models import DivisionList, DivisionVersion, EstablishmentStandard
from boundaries.models import Division
from boundaries.proposal_apply import proposal_changes_apply, township_code_provisional
from boundaries.proposal_models import DivisionProposal
from boundaries.proposals import (
    STANDARD_UNIT,
    merger_impact,
    move_villages_impact,
    move_villages_parts,
    split_impact,
    split_parts,
    unit_change_impact,
)
from boundaries.signals import division_change_impact
from gis_portal.core import sql
from gis_portal.core.errors import Conflict, Forbidden, InvalidParameter, NotFound
from gis_portal.core.region import division_code_pattern
from gis_portal.core.roles import ADMINISTRATOR, PLANNER, user_has_role

logger = logging.getLogger(__name__)

Kind, Status = DivisionProposal.Kind, DivisionProposal.Status
TEXT_LIMIT = 4000
# The unit a kind change makes, the kind it starts from, and the default name's new generic part.
KIND_CHANGES = {
    Kind.TOWNSHIP_TO_TOWN: (Division.Kind.TOWNSHIP, Division.Kind.TOWN, ("乡", "镇")),
    Kind.TOWN_TO_STREET: (Division.Kind.TOWN, Division.Kind.STREET, ("镇", "街道")),
}


def user_is_approver(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Administrators (the role, or Django staff) decide and apply proposals."""
    return user_has_role(user, ADMINISTRATOR) or bool(getattr(user, "is_staff", False))


def _planner_required(user) -> None:
    if not user_has_role(user, PLANNER) and not user_is_approver(user):
        raise Forbidden("only planners draft division change proposals")


def _approver_required(user) -> None:
    if not user_is_approver(user):
        raise Forbidden("only administrators decide and apply division change proposals")


def _save(proposal: DivisionProposal, *, actor, step: str, fields: list[str] | None = None) -> None:
    """Save one step of the workflow; simple_history records the actor and the step."""
    proposal._history_user = actor
    proposal._change_reason = step
    if fields is None:
        proposal.save()
    else:
        proposal.save(update_fields=[*fields, "updated_at"])
    logger.info("division proposal %s: %s by %s (now %s)", proposal.pk, step, actor, proposal.status)


# --- Reading ---------------------------------------------------------------------------------------


def proposals_visible(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[DivisionProposal]:
    """What a user may read: the public only approved and effective proposals; planners and
    administrators also their own drafts and everyone's submitted and decided ones."""
    proposals = DivisionProposal.objects.select_related("author", "approver")
    public = Q(status__in=[Status.APPROVED, Status.EFFECTIVE])
    if user_has_role(user, PLANNER) or user_is_approver(user):
        return proposals.filter(public | Q(status__in=[Status.SUBMITTED, Status.REJECTED]) | Q(author_id=user.pk))
    return proposals.filter(public)


def proposal_get(*, pk: int, user: AbstractBaseUser | AnonymousUser) -> DivisionProposal:
    proposal = proposals_visible(user=user).filter(pk=pk).first()
    if proposal is None:
        raise NotFound(f"no division change proposal {pk} that you may read")
    return proposal


# --- Drafts ----------------------------------------------------------------------------------------


def _is_code(code: str, level: str) -> bool:
    """Whether ``code`` is a division code of ``level`` (ASCII digits: ``str.isdigit`` takes ２ too)."""
    return re.fullmatch(division_code_pattern(level), code) is not None


def _codes_clean(units: list[str]) -> list[str]:
    codes = sorted({str(code).strip() for code in units})
    if not codes or not all(_is_code(code, "township") for code in codes):
        raise InvalidParameter("units: nine-digit township codes")
    if len(codes) > 20:
        raise InvalidParameter("units: at most 20 townships")
    return codes


def _stated_clean(stated: dict) -> dict:
    """The figures the proposer states: only those the service does not hold, as numbers."""
    if not isinstance(stated, dict):
        raise InvalidParameter("stated_figures: an object of figure name to number")
    askable = set(EstablishmentStandard.objects.filter(service_knows=False).values_list("figure", flat=True))
    unknown = sorted(set(stated) - askable)
    if unknown:
        raise InvalidParameter(
            f"stated_figures: {', '.join(unknown)} not asked for (the figures to state: {', '.join(sorted(askable))})"
        )
    clean = {}
    for figure, value in stated.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParameter(f"stated_figures: {figure} must be a number")
        clean[figure] = value
    return clean


def _move_fields_clean(*, kind: str, villages: list[str] | None, target_code: str | None) -> dict:
    """A move of villages names the villages (12-digit codes) and the target township (9 digits);
    the other kinds name neither."""
    villages = sorted({str(code).strip() for code in villages or []})
    target_code = (target_code or "").strip()
    if kind != Kind.MOVE_VILLAGES:
        if villages or target_code:
            raise InvalidParameter("villages, target_code: only a move of villages names them")
        return {"villages": [], "target_code": ""}
    if not villages:
        raise InvalidParameter("villages: at least one village or community to move (12-digit codes)")
    if not all(_is_code(code, "village") for code in villages):
        raise InvalidParameter("villages: 12-digit village or community codes")
    if len(villages) > 200:
        raise InvalidParameter("villages: at most 200")
    if not _is_code(target_code, "township"):
        raise InvalidParameter("target_code: the nine-digit code of the township that receives the villages")
    return {"villages": villages, "target_code": target_code}


def _fields_clean(*, kind: str, units: list[str], new_name: str, new_code: str, new_kind: str) -> dict:
    """The shape of a proposal (what a draft must have); whether it can be done is checked on
    submission."""
    if kind not in Kind.values:
        raise InvalidParameter(f"kind: one of {', '.join(Kind.values)}")
    codes = _codes_clean(units)
    new_name = (new_name or "").strip()
    new_code = (new_code or "").strip()
    if len(new_name) > 64:
        raise InvalidParameter("new_name: at most 64 characters")
    if new_code and not _is_code(new_code, "township"):
        raise InvalidParameter("new_code: a nine-digit township code, or empty")
    if new_code and new_code[:6] != codes[0][:6]:
        raise InvalidParameter("new_code: the new unit's code must begin with its district's code")
    if kind == Kind.MERGE:
        if len(codes) < 2:
            raise InvalidParameter("units: a merger needs at least two townships")
        if new_kind not in DivisionProposal.NEW_KINDS:
            raise InvalidParameter(f"new_kind: one of {', '.join(DivisionProposal.NEW_KINDS)}")
    else:
        if len(codes) != 1:
            raise InvalidParameter(f"units: a {kind} changes exactly one township")
        if kind == Kind.MOVE_VILLAGES:
            if new_name or new_code or new_kind:
                raise InvalidParameter(
                    "new_name, new_code, new_kind: a move of villages makes no new unit (give villages and target_code)"
                )
            return {"units": codes, "new_name": "", "new_code": "", "new_kind": ""}
        if kind == Kind.SPLIT:
            if new_kind not in DivisionProposal.NEW_KINDS:
                raise InvalidParameter(f"new_kind: the new unit's kind, one of {', '.join(DivisionProposal.NEW_KINDS)}")
            return {"units": codes, "new_name": new_name, "new_code": new_code, "new_kind": new_kind}
        if kind in KIND_CHANGES:
            new_kind = KIND_CHANGES[kind][1]
        elif new_kind:
            raise InvalidParameter("new_kind: a rename keeps the kind (use township_to_town or town_to_street)")
    return {"units": codes, "new_name": new_name, "new_code": new_code, "new_kind": new_kind or ""}


@transaction.atomic
def proposal_create(
    *,
    author: User,
    kind: str,
    units: list[str],
    new_name: str = "",
    new_code: str = "",
    new_kind: str = "",
    title: str = "",
    reason: str = "",
    stated_figures: dict | None = None,
    effective_date: datetime.date | None = None,
    split_line: GEOSGeometry | None = None,
    villages: list[str] | None = None,
    target_code: str = "",
) -> DivisionProposal:
    """A planner's new draft."""
    _planner_required(author)
    fields = _fields_clean(kind=kind, units=units, new_name=new_name, new_code=new_code, new_kind=new_kind)
    fields |= _move_fields_clean(kind=kind, villages=villages, target_code=target_code)
    _split_line_check(kind, split_line)
    proposal = DivisionProposal(
        kind=kind,
        district_code=fields["units"][0][:6],
        title=title.strip()[:128],
        reason=reason.strip()[:TEXT_LIMIT],
        stated_figures=_stated_clean(stated_figures or {}),
        effective_date=effective_date,
        split_line=split_line,
        author=author,
        **fields,
    )
    _save(proposal, actor=author, step="create")
    return proposal


EDITABLE = {
    "kind",
    "units",
    "new_name",
    "new_code",
    "new_kind",
    "title",
    "reason",
    "stated_figures",
    "effective_date",
    "split_line",
    "villages",
    "target_code",
}


def _split_line_check(kind: str, line: GEOSGeometry | None) -> None:
    if kind == Kind.SPLIT and (line is None or line.geom_type != "LineString" or line.num_points < 2):
        raise InvalidParameter("split_line: a split needs the line drawn across the unit (a GeoJSON LineString)")
    if kind != Kind.SPLIT and line is not None:
        raise InvalidParameter("split_line: only a split has a line")


@transaction.atomic
def proposal_update(*, proposal: DivisionProposal, actor: User, **changes) -> DivisionProposal:
    """Edit a draft (its author only)."""
    _planner_required(actor)
    if proposal.author_id != actor.pk:
        raise Forbidden("only the author edits a draft")
    if proposal.status != Status.DRAFT:
        raise Conflict(f"only a draft is edited (this proposal is {proposal.status})")
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidParameter(f"{', '.join(unknown)}: not editable")
    merged = {name: changes.get(name, getattr(proposal, name)) for name in EDITABLE}
    fields = _fields_clean(
        kind=merged["kind"],
        units=merged["units"],
        new_name=merged["new_name"],
        new_code=merged["new_code"],
        new_kind=merged["new_kind"],
    )
    fields |= _move_fields_clean(kind=merged["kind"], villages=merged["villages"], target_code=merged["target_code"])
    _split_line_check(merged["kind"], merged["split_line"])
    proposal.kind, proposal.split_line = merged["kind"], merged["split_line"]
    proposal.district_code = fields["units"][0][:6]
    proposal.title = (merged["title"] or "").strip()[:128]
    proposal.reason = (merged["reason"] or "").strip()[:TEXT_LIMIT]
    proposal.stated_figures = _stated_clean(merged["stated_figures"] or {})
    proposal.effective_date = merged["effective_date"]
    for name, value in fields.items():
        setattr(proposal, name, value)
    _save(proposal, actor=actor, step="update")
    return proposal


# --- Submission: the impact and the checks ---------------------------------------------------------


def _current_townships(codes: list[str]) -> dict[str, Division]:
    townships = {d.code: d for d in Division.objects.filter(code__in=codes, level=Division.Level.TOWNSHIP)}
    unknown = sorted(set(codes) - set(townships))
    if unknown:
        raise InvalidParameter(f"units: no current township {', '.join(unknown)}")
    return townships


def _new_name_resolve(proposal: DivisionProposal, township: Division | None) -> str:
    """The unit's new name: as proposed, or for a kind change the old name with its generic part
    replaced (罗云乡 → 罗云镇); a rename must differ from the current name."""
    if proposal.new_name:
        if township is not None and proposal.kind == Kind.RENAME and proposal.new_name == township.name:
            raise InvalidParameter("new_name: the township already has this name")
        return proposal.new_name
    if proposal.kind in KIND_CHANGES and township is not None:
        old_generic, new_generic = KIND_CHANGES[proposal.kind][2]
        if township.name.endswith(old_generic):
            return township.name[: -len(old_generic)] + new_generic
    raise InvalidParameter("new_name: the name of the unit after the change is required")


def _new_code_check(proposal: DivisionProposal) -> None:
    if not proposal.new_code or (proposal.kind != Kind.MERGE and proposal.new_code in proposal.units):
        return
    if (
        Division.objects.filter(code=proposal.new_code).exists()
        or DivisionVersion.objects.filter(code=proposal.new_code).exists()
    ):
        raise InvalidParameter(f"new_code: {proposal.new_code} is or was already the code of a division")


def proposal_impact(*, proposal: DivisionProposal, today: datetime.date) -> dict:
    """The impact of a proposal as it stands (InvalidParameter naming why it cannot be done), with
    what the apps above measure of the townships before and after (``division_change_impact``: the
    facilities and their coverage, under ``facilities``). A new unit without a proposed code is
    named by the provisional code it would get today."""
    townships = _current_townships(list(proposal.units))
    _new_code_check(proposal)
    stated = dict(proposal.stated_figures or {})
    first = townships[proposal.units[0]]
    if proposal.kind == Kind.MOVE_VILLAGES:
        parts = move_villages_parts(code=first.code, villages=list(proposal.villages), target_code=proposal.target_code)
        impact = move_villages_impact(parts=parts, today=today, stated=stated)
        target = Division.objects.get(pk=parts.target["id"])
        impact["new_unit"] = None
        # Before: the source and the target as they are; after: the source reduced, the target enlarged.
        before = [_unit(first, geom=first.geom), _unit(target, geom=target.geom)]
        after = [
            _unit(first, geom=GEOSGeometry(parts.kept["geom"])),
            _unit(target, geom=GEOSGeometry(parts.target_after["geom"])),
        ]
        return _impact_measured_above(impact, district_id=first.parent_id, before=before, after=after)
    if proposal.kind == Kind.SPLIT:
        name = _new_name_resolve(proposal, None)
        parts = split_parts(code=first.code, line_ewkt=proposal.split_line.ewkt)
        impact = split_impact(parts=parts, today=today)
        after = [
            _unit(first, geom=GEOSGeometry(parts.kept["geom"])),
            _new_unit(proposal, district=first.parent, name=name, geom=GEOSGeometry(parts.cut["geom"])),
        ]
    elif proposal.kind == Kind.MERGE:
        name = _new_name_resolve(proposal, None)
        impact = merger_impact(
            codes=list(proposal.units), today=today, unit=STANDARD_UNIT.get(proposal.new_kind), stated=stated
        )
        union = sql.row(UNION_SQL, {"ids": [t.id for t in townships.values()]})["geom"]
        after = [_new_unit(proposal, district=first.parent, name=name, geom=GEOSGeometry(union))]
    else:
        township = townships[proposal.units[0]]
        if proposal.kind in KIND_CHANGES and township.kind != KIND_CHANGES[proposal.kind][0]:
            raise InvalidParameter(
                f"units: {township.name} is a {township.kind}; a {proposal.kind} starts from a "
                f"{KIND_CHANGES[proposal.kind][0]}"
            )
        name = _new_name_resolve(proposal, township)
        new_kind = proposal.new_kind or township.kind
        impact = unit_change_impact(code=township.code, today=today, unit=STANDARD_UNIT.get(new_kind), stated=stated)
        code = proposal.new_code or township.code
        after = [_unit(township, geom=township.geom) | {"code": code, "name": name, "kind": new_kind}]
    impact["new_unit"] = {
        "name": name,
        "code": proposal.new_code or None,
        "kind": proposal.new_kind or townships[proposal.units[0]].kind,
    }
    before = [_unit(township, geom=township.geom) for township in townships.values()]
    return _impact_measured_above(impact, district_id=first.parent_id, before=before, after=after)


def _impact_measured_above(impact: dict, *, district_id: int, before: list[dict], after: list[dict]) -> dict:
    """The impact with what the apps above measure (facilities and coverage), before and after."""
    answers = division_change_impact.send(sender=Division, district_id=district_id, before=before, after=after)
    for _receiver, answer in answers:
        impact.update(answer or {})
    return impact


UNION_SQL = sql.compose(
    "SELECT ST_Multi(ST_Union(geom)) AS geom FROM {division} WHERE id = ANY(%(ids)s)", division=Division
)


def _unit(township: Division, *, geom: GEOSGeometry) -> dict:
    """A unit as ``division_change_impact`` names it."""
    return {"id": township.id, "code": township.code, "name": township.name, "kind": township.kind, "geom": geom}


def _new_unit(proposal: DivisionProposal, *, district: Division, name: str, geom: GEOSGeometry) -> dict:
    """The unit a merger or a split would make, under its proposed or provisional code."""
    code = proposal.new_code or township_code_provisional(district)
    return {"id": None, "code": code, "name": name, "kind": proposal.new_kind, "geom": geom}


def _effective_date_check(proposal: DivisionProposal, on: datetime.date) -> None:
    """A change takes effect after the latest imported list (which it would contradict) and after
    every version it ends began."""
    latest = DivisionList.objects.order_by("-as_of").values_list("as_of", flat=True).first()
    began = (
        DivisionVersion.objects.filter(
            code__in=[*proposal.units, *([proposal.target_code] if proposal.target_code else [])],
            valid_to__isnull=True,
            valid_from__isnull=False,
        )
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    floor = max(day for day in (latest, began) if day is not None) if (latest or began) else None
    if floor is not None and on <= floor:
        raise InvalidParameter(
            f"effective_date: {on} must be after {floor} (the latest list or the units' last change)"
        )


@transaction.atomic
def proposal_submit(*, proposal: DivisionProposal, actor: User, today: datetime.date) -> DivisionProposal:
    """The author submits a draft: the impact is computed and stored as it is now; a proposal that
    cannot be done is refused (InvalidParameter naming the reason, nothing changed)."""
    _planner_required(actor)
    if proposal.author_id != actor.pk:
        raise Forbidden("only the author submits a draft")
    if proposal.status != Status.DRAFT:
        raise Conflict(f"only a draft is submitted (this proposal is {proposal.status})")
    proposal.impact = proposal_impact(proposal=proposal, today=today)
    if proposal.effective_date is not None:
        _effective_date_check(proposal, proposal.effective_date)
    proposal.status, proposal.submitted_at = Status.SUBMITTED, timezone.now()
    _save(proposal, actor=actor, step="submit", fields=["impact", "status", "submitted_at"])
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal: DivisionProposal, actor: User) -> DivisionProposal:
    if proposal.author_id != actor.pk:
        raise Forbidden("only the author withdraws a proposal")
    if proposal.status not in (Status.DRAFT, Status.SUBMITTED):
        raise Conflict(f"a proposal {proposal.status} is not withdrawn")
    proposal.status = Status.WITHDRAWN
    _save(proposal, actor=actor, step="withdraw", fields=["status"])
    return proposal


# --- Decision and application ----------------------------------------------------------------------


@transaction.atomic
def proposal_decide(
    *,
    proposal: DivisionProposal,
    actor: User,
    approve: bool,
    note: str = "",
    effective_date: datetime.date | None = None,
) -> DivisionProposal:
    """An administrator approves a submitted proposal (with its effective date, if not set yet)
    or rejects it (submitted, or approved and not yet applied), with a note."""
    _approver_required(actor)
    before = proposal.status
    if approve:
        if before != Status.SUBMITTED:
            raise Conflict(f"only a submitted proposal is approved (this one is {before})")
        day = effective_date or proposal.effective_date
        if day is not None:
            _effective_date_check(proposal, day)
        proposal.effective_date = day
        proposal.status = Status.APPROVED
    else:
        if before not in (Status.SUBMITTED, Status.APPROVED):
            raise Conflict(f"a proposal {before} cannot be rejected")
        if not note.strip():
            raise InvalidParameter("note: a rejection states its reason")
        proposal.status = Status.REJECTED
    proposal.approver, proposal.decided_at = actor, timezone.now()
    proposal.decision_note = note.strip()[:TEXT_LIMIT]
    _save(
        proposal,
        actor=actor,
        step="approve" if approve else "reject",
        fields=["status", "effective_date", "approver", "decided_at", "decision_note"],
    )
    return proposal


@transaction.atomic
def proposal_apply(
    *, proposal: DivisionProposal, actor: User | None, today: datetime.date, effective_date: datetime.date | None = None
) -> DivisionProposal:
    """Apply an approved proposal, in one transaction: a day not yet come is only set (the
    proposal stays approved and ``apply_due_proposals`` applies it that day); a day come is
    applied now (the divisions, their versions, changes and areas, the township lines). The
    impact is computed again first: a proposal the divisions no longer allow is refused."""
    if actor is not None:
        _approver_required(actor)
    if proposal.status != Status.APPROVED:
        raise Conflict(f"only an approved proposal is applied (this one is {proposal.status})")
    day = effective_date or proposal.effective_date
    if day is None:
        raise InvalidParameter("effective_date: the day the change takes effect is required")
    _effective_date_check(proposal, day)
    proposal.effective_date = day
    if day > today:
        _save(proposal, actor=actor, step=f"scheduled for {day}", fields=["effective_date"])
        return proposal
    proposal_impact(proposal=proposal, today=today)  # still possible?
    proposal.result = proposal_changes_apply(proposal=proposal, approver=proposal.approver)
    proposal.status, proposal.applied_at = Status.EFFECTIVE, timezone.now()
    _save(
        proposal,
        actor=actor,
        step=f"applied, effective {day}",
        fields=["result", "status", "applied_at", "effective_date"],
    )
    return proposal


def proposals_apply_due(*, today: datetime.date) -> list[int]:
    """Apply every approved proposal whose effective date has come, each in its own transaction,
    oldest day first; return their ids (the command ``apply_due_proposals``, run daily)."""
    applied = []
    due = DivisionProposal.objects.filter(status=Status.APPROVED, effective_date__lte=today).order_by(
        "effective_date", "id"
    )
    for proposal in due:
        proposal_apply(proposal=proposal, actor=None, today=today)
        applied.append(proposal.pk)
    return applied
