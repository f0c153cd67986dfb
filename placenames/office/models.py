"""The place-name office's records: naming applications (命名、更名、注销) with their automatic
findings, public-notice comments and an audit log of every step; the scopes within which a name may
not repeat (data, not code); place-name signs (地名标志) and the checks survey teams report; heritage
names (地名文化遗产) with photos. Geometries are EPSG:4326 (WGS84)."""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from boundaries.models import Division, SurveyTeam
from gis_portal.core.crs import WGS84
from placenames.models import PlaceName


class ObjectType(models.TextChoices):
    """Kinds of named object; the keys of ``placenames.naming_rules.OBJECT_GENERICS``."""

    COUNTY = "county", _("district/county")
    DIVISION = "division", _("township/town/street")
    COMMUNITY = "community", _("community")
    VILLAGE = "village", _("village")
    ROAD = "road", _("road or street")
    BRIDGE = "bridge", _("bridge")
    RESIDENTIAL_AREA = "residential_area", _("residential area")
    NATURAL_FEATURE = "natural_feature", _("natural feature")


class CheckScope(models.Model):
    """Where a name of one object type may not repeat, nor sound the same (same toneless pinyin): the
    area (the municipality, the district/county, or the township the location lies in) and the
    feature classes of the standard names compared. Defaults with their sources in migration 0002."""

    class Area(models.TextChoices):
        MUNICIPALITY = "municipality", _("the municipality")
        DISTRICT = "district", _("the district/county")
        TOWNSHIP = "township", _("the township/town/street")

    object_type = models.CharField(_("object type"), max_length=32, choices=ObjectType.choices, unique=True)
    area = models.CharField(_("scope"), max_length=16, choices=Area.choices)
    feature_classes = ArrayField(
        models.CharField(max_length=16, choices=PlaceName.FeatureClass.choices),
        verbose_name=_("compared with names of class"),
    )
    source = models.CharField(_("source"), max_length=300)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["object_type"]
        verbose_name = _("name check scope")
        verbose_name_plural = _("name check scopes")

    def __str__(self) -> str:
        return f"{self.object_type}: {self.area}"


class NamingApplication(models.Model):
    class Kind(models.TextChoices):
        NAME = "name", _("naming (命名)")
        RENAME = "rename", _("renaming (更名)")
        CANCEL = "cancel", _("cancellation (注销)")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        CHECKED = "checked", _("checked")
        NOTICE = "notice", _("public notice (公示)")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        PUBLISHED = "published", _("published")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    object_type = models.CharField(_("object type"), max_length=32, choices=ObjectType.choices)
    name = models.CharField(_("proposed name"), max_length=64)
    specific = models.CharField(_("specific part (专名)"), max_length=64)
    generic = models.CharField(_("generic part (通名)"), max_length=32, blank=True)
    pinyin = models.CharField(_("Hanyu Pinyin"), max_length=160, blank=True)
    placename = models.ForeignKey(
        PlaceName,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="naming_applications",
        help_text=_("The standard name renamed or cancelled; for a new name, the name published."),
    )
    location = models.GeometryField(_("location"), srid=WGS84, help_text=_("a point or a line"))
    district = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey(Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    meaning = models.TextField(_("meaning (含义)"), blank=True)
    origin = models.TextField(_("origin (由来)"), blank=True)
    submitter_name = models.CharField(_("submitted by"), max_length=64, blank=True)
    submitter_contact = models.CharField(_("contact"), max_length=128, blank=True)
    submitted_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="naming_applications"
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    findings = models.JSONField(_("automatic findings"), default=list)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    notice_start = models.DateField(_("public notice from"), null=True, blank=True)
    notice_end = models.DateField(_("public notice until"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)
    decided_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="naming_decisions"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    approval_ref = models.CharField(_("approval reference"), max_length=128, blank=True)
    effective_on = models.DateField(_("effective on"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("naming application")
        verbose_name_plural = _("naming applications")
        permissions = [("decide_namingapplication", "Can check, notice, approve, reject and publish")]
        indexes = [models.Index(fields=["status", "notice_end"], name="naming_status_notice")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class NamingEvent(models.Model):
    """One step of an application, for the audit: who (none: the public or the system), when, from
    which status to which, and why."""

    application = models.ForeignKey(NamingApplication, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action} {self.from_status}→{self.to_status}"


class NoticeComment(models.Model):
    """A comment from anyone on an application during its public notice."""

    application = models.ForeignKey(NamingApplication, on_delete=models.CASCADE, related_name="comments")
    author = models.CharField(_("name"), max_length=64, blank=True)
    text = models.TextField(_("comment"), max_length=2000)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class Sign(models.Model):
    """A place-name sign (地名标志) on the ground, the standard name it should show, and what it shows."""

    class Type(models.TextChoices):
        ROAD = "road", _("road or street sign")
        VILLAGE = "village", _("village sign")
        COMMUNITY = "community", _("community sign")
        OTHER = "other", _("other sign")

    class Condition(models.TextChoices):
        GOOD = "good", _("good")
        DAMAGED = "damaged", _("damaged")
        MISSING = "missing", _("missing")

    sign_type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    placename = models.ForeignKey(PlaceName, on_delete=models.PROTECT, related_name="signs")
    district = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    point = models.PointField(_("location"), srid=WGS84)
    text_chinese = models.CharField(_("Chinese text on the sign"), max_length=64)
    text_pinyin = models.CharField(_("pinyin on the sign"), max_length=160)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices, default=Condition.GOOD)
    last_checked = models.DateField(_("last check"), null=True, blank=True)
    findings = models.JSONField(_("text findings"), default=list, help_text=_("from placenames.sign_rules"))
    is_wrong = models.BooleanField(_("text wrong"), default=False)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    history = HistoricalRecords(excluded_fields=["findings"])

    class Meta:
        ordering = ["district", "placename__name", "id"]
        verbose_name = _("place-name sign")
        verbose_name_plural = _("place-name signs")
        indexes = [models.Index(fields=["condition", "is_wrong"], name="sign_condition_wrong")]

    def __str__(self) -> str:
        return f"{self.text_chinese} ({self.get_sign_type_display()})"


class SignCheck(models.Model):
    """A survey team's check of a sign on the ground: condition, the text read, and a photo (kept
    under MEDIA_ROOT, validated as an image)."""

    sign = models.ForeignKey(Sign, on_delete=models.CASCADE, related_name="checks")
    team = models.ForeignKey(SurveyTeam, on_delete=models.PROTECT, related_name="+")
    checked_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    checked_on = models.DateField(_("checked on"))
    condition = models.CharField(_("condition"), max_length=16, choices=Sign.Condition.choices)
    text_chinese = models.CharField(_("Chinese text read"), max_length=64, blank=True)
    text_pinyin = models.CharField(_("pinyin read"), max_length=160, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    photo = models.FileField(_("photo"), upload_to="sign_checks/%Y/%m/")
    photo_format = models.CharField(max_length=8)
    photo_width = models.PositiveIntegerField()
    photo_height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_on", "-id"]


class HeritageName(models.Model):
    """A name listed for protection (地名文化遗产): an old town, old village or old street name."""

    class Category(models.TextChoices):
        OLD_TOWN = "old_town", _("old town (古镇)")
        OLD_VILLAGE = "old_village", _("old village (古村落)")
        OLD_STREET = "old_street", _("old street or lane (老街巷)")
        OTHER = "other", _("other")

    class Level(models.TextChoices):
        NATIONAL = "national", _("national")
        MUNICIPAL = "municipal", _("municipal")
        DISTRICT = "district", _("district/county")

    name = models.CharField(_("name"), max_length=64)
    specific = models.CharField(_("specific part (专名)"), max_length=64)
    placename = models.ForeignKey(
        PlaceName, on_delete=models.SET_NULL, null=True, blank=True, related_name="heritage_listings"
    )
    district = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    point = models.PointField(_("location"), srid=WGS84)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    story = models.TextField(_("story"), blank=True)
    sources = models.TextField(_("sources"), blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["district__code", "name"]
        verbose_name = _("heritage name")
        verbose_name_plural = _("heritage names")
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="heritage_district_name")]

    def __str__(self) -> str:
        return self.name


class HeritagePhoto(models.Model):
    heritage = models.ForeignKey(HeritageName, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to="heritage/%Y/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True)
