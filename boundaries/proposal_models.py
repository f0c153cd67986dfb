"""Stored division change proposals (行政区划调整方案): a planner's draft of a change of townships,
submitted with its impact computed then, decided by an administrator and applied on its effective
date. The workflow is ``boundaries.proposal_services``; applying a change is
``boundaries.proposal_apply``. Every step is recorded by django-simple-history (who, when, which
step, as the change reason). Registered with the app by ``boundaries.models``, which imports it."""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from boundaries.models import Division
from gis_portal.core.crs import WGS84


class DivisionProposal(models.Model):
    """One proposed change of townships of one district. ``units``: the 9-digit codes of the current
    townships it changes (two or more for a merger, one otherwise); ``new_*``: the unit after it
    (a blank ``new_code`` on a merger gets a provisional code when applied, marked so; for a split,
    the part cut off by ``split_line`` away from the unit's seat); for a move of villages, ``units``
    is the source township, ``villages`` the 12-digit codes of the villages it gives and
    ``target_code`` the neighbouring township that receives them (and their area);
    ``stated_figures``: the figures of the establishment standards the service does not hold,
    stated by the proposer (never estimated); ``impact``: computed at submission and kept as it
    was then; ``result``: what applying it did (the new unit, the lines retired and joined)."""

    class Kind(models.TextChoices):
        MERGE = "merge", _("merge townships")
        RENAME = "rename", _("rename")
        TOWNSHIP_TO_TOWN = "township_to_town", _("township to town (乡→镇)")
        TOWN_TO_STREET = "town_to_street", _("town to street (镇→街道)")
        SPLIT = "split", _("split along a line")
        MOVE_VILLAGES = "move_villages", _("move villages to a neighbouring township")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        EFFECTIVE = "effective", _("effective")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")

    NEW_KINDS = [Division.Kind.TOWNSHIP, Division.Kind.TOWN, Division.Kind.STREET]

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    title = models.CharField(_("title"), max_length=128, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=4000)
    district_code = models.CharField(_("district code"), max_length=6, db_index=True)
    units = ArrayField(models.CharField(max_length=12), verbose_name=_("units (codes)"))
    new_name = models.CharField(_("new name"), max_length=64, blank=True)
    new_code = models.CharField(_("new code"), max_length=12, blank=True)
    new_kind = models.CharField(_("new kind"), max_length=16, choices=Division.Kind.choices, blank=True)
    split_line = models.LineStringField(
        _("split line"), srid=WGS84, null=True, blank=True, help_text=_("a split: the line drawn across the unit")
    )
    villages = ArrayField(
        models.CharField(max_length=12),
        verbose_name=_("villages moved (codes)"),
        default=list,
        blank=True,
        help_text=_("a move of villages: the 12-digit codes of the source township's villages it moves"),
    )
    target_code = models.CharField(
        _("target township code"),
        max_length=12,
        blank=True,
        help_text=_("a move of villages: the neighbouring township of the same district that receives them"),
    )
    stated_figures = models.JSONField(_("figures stated by the proposer"), default=dict, blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    impact = models.JSONField(_("impact at submission"), null=True, blank=True, encoder=DjangoJSONEncoder)
    result = models.JSONField(_("what applying it did"), null=True, blank=True, encoder=DjangoJSONEncoder)
    decision_note = models.TextField(_("decision note"), blank=True, max_length=4000)
    author = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="division_proposals")
    approver = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["impact", "result"])

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("division change proposal")
        verbose_name_plural = _("division change proposals")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {','.join(self.units)}"
