"""Standard place names (标准地名) and their variants, with every change recorded (simple_history).

Points are EPSG:4326 (WGS84). Search columns (``name``, ``specific``, ``pinyin_plain``,
``initials``) use the "C" collation so that plain b-tree indexes serve prefix ``LIKE`` and ordering.
"""

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from boundaries.models import Cluster, Division
from gis_portal.core.crs import WGS84


class PlaceName(models.Model):
    class FeatureClass(models.TextChoices):
        MUNICIPALITY = "municipality", _("municipality")
        DISTRICT = "district", _("district/county")
        TOWNSHIP = "township", _("township/street")
        VILLAGE = "village", _("village/community")
        NATURAL = "natural", _("natural feature")
        ROAD = "road", _("road or street")
        FACILITY = "facility", _("facility")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        STANDARD = "standard", _("standard")
        PROPOSED = "proposed", _("proposed")
        RETIRED = "retired", _("retired")

    # Larger divisions first when ranking search results.
    RANK = {"municipality": 0, "district": 1, "township": 2, "village": 3}
    OTHER_RANK = 4

    name = models.CharField(_("standard name"), max_length=64, db_collation="C")
    specific = models.CharField(_("specific part (专名)"), max_length=64, db_collation="C")
    generic = models.CharField(_("generic part (通名)"), max_length=32, blank=True)
    pinyin = models.CharField(_("Hanyu Pinyin"), max_length=160, help_text="e.g. Yuzhong Qu")
    pinyin_tone = models.CharField(_("pinyin with tone marks"), max_length=160, blank=True)
    pinyin_plain = models.CharField(max_length=160, db_collation="C", help_text="lowercase, no tones, no spaces")
    initials = models.CharField(max_length=64, db_collation="C", help_text="first letters of the syllables")
    feature_class = models.CharField(_("feature class"), max_length=16, choices=FeatureClass.choices)
    rank = models.PositiveSmallIntegerField(default=OTHER_RANK, help_text="0 municipality … 4 other features")
    division = models.OneToOneField(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="placename",
        help_text=_("The division this is the name of, if any."),
    )
    parent = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The smallest division the place lies in (for a division: its parent)."),
    )
    district = models.ForeignKey(Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    point = models.PointField(_("location"), srid=WGS84, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.STANDARD)
    meaning = models.TextField(_("meaning and origin (含义)"), blank=True)
    history_text = models.TextField(_("history (历史沿革)"), blank=True)
    approval_ref = models.CharField(_("approval reference"), max_length=128, blank=True)
    approval_date = models.DateField(_("approval date"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True, help_text=_("empty: since before records"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("empty: still in use"))
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rank", "name"]
        verbose_name = _("standard place name")
        verbose_name_plural = _("standard place names")
        indexes = [
            # Exact and prefix search, per rank so that "larger first" is read from the index.
            models.Index(fields=["rank", "name"], name="placename_rank_name"),
            models.Index(fields=["rank", "pinyin_plain"], name="placename_rank_pinyin"),
            models.Index(fields=["rank", "initials"], name="placename_rank_initials"),
            models.Index(fields=["specific"], name="placename_specific"),
            models.Index(fields=["name"], name="placename_name"),
            models.Index(fields=["pinyin_plain"], name="placename_pinyin_plain"),
            models.Index(fields=["initials"], name="placename_initials"),
            models.Index(fields=["district", "name"], name="placename_district_name"),
            models.Index(fields=["district", "pinyin_plain"], name="placename_district_pinyin"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="placename_name_trgm"),
            GinIndex(fields=["pinyin_plain"], opclasses=["gin_trgm_ops"], name="placename_pinyin_trgm"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaceNameVariant(models.Model):
    """Another name of a place: an alias, a former name (with its dates), the traditional-character
    form, or a spelling in a minority language."""

    class Kind(models.TextChoices):
        ALIAS = "alias", _("alias")
        FORMER = "former", _("former name")
        TRADITIONAL = "traditional", _("traditional characters")
        MINORITY = "minority", _("minority-language spelling")

    placename = models.ForeignKey(PlaceName, on_delete=models.CASCADE, related_name="variants")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=160, db_collation="C")
    pinyin = models.CharField(_("Hanyu Pinyin"), max_length=160, blank=True)
    pinyin_plain = models.CharField(max_length=160, blank=True, db_collation="C")
    language = models.CharField(_("language"), max_length=16, blank=True, help_text="e.g. zh-Hant, tuj")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["placename", "kind", "-valid_to"]
        verbose_name = _("place-name variant")
        verbose_name_plural = _("place-name variants")
        indexes = [
            models.Index(fields=["name"], name="pnvariant_name"),
            models.Index(fields=["pinyin_plain"], name="pnvariant_pinyin_plain"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="pnvariant_name_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="pnvariant_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
