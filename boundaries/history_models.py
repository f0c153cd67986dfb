"""The division history (区划调整) beside the current record (``boundaries.models``).

``Division`` stays the current state (the latest list): every undated query reads it as before.
The history lives beside it: each imported yearly list (``DivisionList``), every version of every
unit (``DivisionVersion``: a code with one name, kind and parent over a stretch of time; a unit
renamed under the same code has two versions of that code, one after the other), the change
events linking versions (``DivisionChange``), and which version answers for the area of each
current polygon on a date (``DivisionArea``). Validity is half-open, [valid_from, valid_to): where
the lists only bound a change, the later bound is taken as its day (the earlier list's state holds
until the next list says otherwise) and the earlier bound is kept in ``*_after``.

Establishment standards (镇、街道设立标准) are data here too, each criterion with its source and date.
These models are registered with the app by ``boundaries.models``, which imports them."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from boundaries.models import Cluster, Division
from gis_portal.core.crs import WGS84


class DivisionList(models.Model):
    """One imported yearly list of the statistical divisions, with the date it is as of."""

    as_of = models.DateField(_("as of"), unique=True)
    source = models.CharField(_("source"), max_length=255)
    districts = models.PositiveIntegerField(_("districts/counties"))
    townships = models.PositiveIntegerField(_("townships/streets"))
    villages = models.PositiveIntegerField(_("villages/communities"))

    class Meta:
        ordering = ["as_of"]
        verbose_name = _("division list")
        verbose_name_plural = _("division lists")

    def __str__(self) -> str:
        return f"{self.as_of}: {self.source}"


class DivisionVersion(models.Model):
    """A unit as one yearly list or more give it: code, official name, kind and parent, valid from
    ``valid_from`` (None: already on the first list) up to, not including, ``valid_to`` (None:
    current). ``valid_from_after``/``valid_to_after`` are set when a bound is only known to lie
    after that date and on or before the bound itself (between two lists); None: exact.

    ``division`` is the current Division of this version (only for the version in force);
    ``geometry_from`` the current Division whose polygon or point is this version's area (the same
    unit, perhaps under a later code or name): None when the unit's area went into another unit
    and it keeps no geometry of its own."""

    code = models.CharField(_("statistical code"), max_length=12, db_index=True)
    name = models.CharField(_("official name"), max_length=64)
    standard_name = models.CharField(_("standard name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Division.Level.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Division.Kind.choices)
    parent_code = models.CharField(_("parent code"), max_length=12, db_index=True)
    district_code = models.CharField(_("district code"), max_length=6, db_index=True)
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_from_after = models.DateField(_("began after"), null=True, blank=True)
    valid_to = models.DateField(_("valid to (exclusive)"), null=True, blank=True)
    valid_to_after = models.DateField(_("ended after"), null=True, blank=True)
    division = models.OneToOneField(
        Division, on_delete=models.SET_NULL, null=True, blank=True, related_name="current_version"
    )
    geometry_from = models.ForeignKey(
        Division, on_delete=models.SET_NULL, null=True, blank=True, related_name="versions"
    )
    is_synthetic = models.BooleanField(_("synthetic geometry"), default=False)
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        ordering = ["code", "valid_from"]
        verbose_name = _("division version")
        verbose_name_plural = _("division versions")
        indexes = [
            models.Index(fields=["level", "valid_from", "valid_to"], name="divversion_level_valid"),
            models.Index(fields=["parent_code", "valid_from"], name="divversion_parent_valid"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(valid_to__isnull=True), name="divversion_one_current_per_code"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="divversion_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DivisionChange(models.Model):
    """One event between two versions: ``before`` ends (except ``split_from``, where it goes on)
    and ``after`` begins or takes over. Known to lie after ``changed_after`` and on or before
    ``changed_by``; ``effective_date`` is the day once staff confirm it. ``inferred`` links come
    from the lists alone (same 专名 under the same parent, villages followed), with ``evidence``;
    staff confirm or correct them (``review``)."""

    class Type(models.TextChoices):
        RENAMED = "renamed", _("renamed")
        OFFICIAL_NAME_CHANGED = "official_name_changed", _("committee name changed")
        RECODED = "recoded", _("re-coded")
        REPARENTED = "reparented", _("moved to another township")
        TOWNSHIP_TO_TOWN = "township_to_town", _("乡→镇")
        TOWN_TO_STREET = "town_to_street", _("镇→街道")
        TOWNSHIP_TO_STREET = "township_to_street", _("乡→街道")
        VILLAGE_TO_COMMUNITY = "village_to_community", _("村→社区")
        MERGED_INTO = "merged_into", _("merged into")
        SPLIT_FROM = "split_from", _("split from")
        ABOLISHED = "abolished", _("abolished")
        NEW = "new", _("new")

    class Review(models.TextChoices):
        INFERRED = "inferred", _("inferred, not reviewed")
        CONFIRMED = "confirmed", _("confirmed by staff")
        CORRECTED = "corrected", _("corrected by staff")

    type = models.CharField(_("type"), max_length=24, choices=Type.choices, db_index=True)
    level = models.CharField(_("level"), max_length=16, choices=Division.Level.choices)
    before = models.ForeignKey(
        DivisionVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="changes_out"
    )
    after = models.ForeignKey(
        DivisionVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="changes_in"
    )
    district_code = models.CharField(_("district code"), max_length=6, db_index=True)
    changed_after = models.DateField(_("after"))
    changed_by = models.DateField(_("on or before"), db_index=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True, help_text=_("once confirmed"))
    inferred = models.BooleanField(_("inferred"), default=True)
    evidence = models.TextField(_("evidence"), blank=True)
    review = models.CharField(_("review"), max_length=16, choices=Review.choices, default=Review.INFERRED)
    reviewed_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The link as the import derived it ("before code|after code|changed_by"), so that a re-import
    # finds the staff's review of it even after they corrected its sides.
    derived_key = models.CharField(max_length=48, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["changed_by", "level", "district_code", "id"]
        verbose_name = _("division change")
        verbose_name_plural = _("division changes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(before__isnull=False) | models.Q(after__isnull=False),
                name="divchange_has_a_side",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.before or '—'} → {self.after or '—'}"


class DivisionArea(models.Model):
    """Which version answers for the area of a current polygon (``division``) from ``valid_from``
    (None: the first list) up to ``valid_to`` (None: now): its own versions, and before a unit split
    from another existed, that other's. Derived by the history import; not edited by hand."""

    division = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="area_spans")
    version = models.ForeignKey(DivisionVersion, on_delete=models.CASCADE, related_name="area_spans")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    # The part of the polygon this span answers for, where a span answers for less than all of it:
    # the area of each unit merged into it by an applied proposal (which the lists cannot say).
    geom = models.MultiPolygonField(srid=WGS84, null=True, blank=True, help_text="None: all of the polygon")

    class Meta:
        verbose_name = _("division area span")
        indexes = [models.Index(fields=["division", "valid_from"], name="divarea_division_from")]


class EstablishmentStandard(models.Model):
    """One criterion of a standard for setting up a town or a street (镇、街道设立标准), as data with
    its source and date, edited by administrators. ``figure`` names what is measured; a figure the
    service does not hold (``service_knows`` false, e.g. the non-agricultural population at the seat or
    fiscal revenue) must be supplied with a proposal and is never estimated."""

    class Unit(models.TextChoices):
        TOWN = "town", _("town (镇)")
        STREET = "street", _("street (街道)")

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("at least")
        MORE_THAN = "gt", _("more than")
        LESS_THAN = "lt", _("less than")
        AT_MOST = "lte", _("at most")

    unit = models.CharField(_("unit to set up"), max_length=8, choices=Unit.choices)
    group = models.CharField(
        _("alternative"),
        max_length=64,
        help_text=_("Criteria of one alternative must all be met; any one alternative suffices."),
    )
    figure = models.CharField(_("figure"), max_length=64, help_text=_("e.g. total_population, seat_nonagricultural"))
    figure_label = models.CharField(_("figure (label)"), max_length=128)
    comparison = models.CharField(_("comparison"), max_length=4, choices=Comparison.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=4)
    service_knows = models.BooleanField(
        _("figure held by the service"), default=False, help_text=_("otherwise the proposal must state it")
    )
    source = models.CharField(_("source"), max_length=255)
    source_date = models.DateField(_("source date"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["unit", "group", "figure"]
        verbose_name = _("establishment standard")
        verbose_name_plural = _("establishment standards")

    def __str__(self) -> str:
        return f"{self.get_unit_display()} {self.group}: {self.figure_label} {self.comparison} {self.threshold}"
