"""Facilities (elder care, funeral, community services) and the coverage standards they are held to.

Points are stored in EPSG:4326 (WGS84); distances are geodesic metres. A facility's ``division``
(the township/street it lies in), ``district`` and ``village`` (the nearest village/community of
that township) are derived from its point in SQL (see ``facilities.services.facilities_derive_divisions``)
and never typed in.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from boundaries.models import Division
from gis_portal.core.crs import WGS84


class Facility(models.Model):
    class Category(models.TextChoices):
        ELDER_INSTITUTION = "elder_institution", _("elder-care institution (养老机构)")
        ELDER_CENTRE = "elder_centre", _("township/street elder-care centre (养老服务中心)")
        ELDER_STATION = "elder_station", _("community elder-care station (社区养老服务站)")
        RURAL_CARE_HOME = "rural_care_home", _("rural care home (农村敬老院)")
        FUNERAL_HOME = "funeral_home", _("funeral home (殡仪馆)")
        CEMETERY = "cemetery", _("public cemetery (公益性公墓)")
        COLUMBARIUM = "columbarium", _("columbarium (骨灰堂)")
        SERVICE_CENTRE = "service_centre", _("community service centre (城乡社区综合服务设施)")

    class Operator(models.TextChoices):
        PUBLIC = "public", _("public")
        PRIVATE = "private", _("private")
        PUBLIC_PRIVATE = "public_private", _("public-private")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PLANNED = "planned", _("planned")
        CLOSED = "closed", _("closed")

    name = models.CharField(_("name"), max_length=128)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, db_index=True)
    operator = models.CharField(_("operator"), max_length=16, choices=Operator.choices, default=Operator.PUBLIC)
    beds = models.PositiveIntegerField(_("beds"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    address = models.CharField(_("address"), max_length=255, blank=True)
    opening_date = models.DateField(_("opening date"), null=True, blank=True)
    point = models.PointField(_("location"), srid=WGS84)
    division = models.ForeignKey(
        Division,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="facilities",
        verbose_name=_("township/street"),
    )
    district = models.ForeignKey(
        Division,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="district_facilities",
        verbose_name=_("district/county"),
    )
    village = models.ForeignKey(
        Division,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="village_facilities",
        verbose_name=_("village/community (nearest)"),
    )
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    source = models.CharField(_("source"), max_length=255, blank=True)
    source_datum = models.CharField(_("source datum"), max_length=32, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        indexes = [
            models.Index(fields=["category", "status"]),
            models.Index(fields=["district", "category"]),
            models.Index(fields=["division", "category"]),
        ]

    def __str__(self) -> str:
        return self.name


class CoverageStandard(models.Model):
    """A rule a facility category is held to (data, editable in the admin, each with its source).

    - radius: every demand point (village/community) of ``demand_kind`` within ``radius_urban_m``
      (communities) or ``radius_rural_m`` (villages) geodesic metres of an open facility;
    - presence: every division of ``level`` (and of ``division_kinds`` when set) has at least
      ``min_count`` open facilities;
    - capacity: open facilities' beds per 1,000 people aged 60+ in each division of ``level``
      at least ``beds_per_1000_elderly``.
    """

    class Kind(models.TextChoices):
        RADIUS = "radius", _("radius")
        PRESENCE = "presence", _("presence")
        CAPACITY = "capacity", _("capacity")

    class Demand(models.TextChoices):
        COMMUNITY = "community", _("urban communities")
        VILLAGE = "village", _("rural villages")
        ALL = "all", _("communities and villages")

    category = models.CharField(_("category"), max_length=32, choices=Facility.Category.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    radius_urban_m = models.PositiveIntegerField(_("radius for communities (m)"), null=True, blank=True)
    radius_rural_m = models.PositiveIntegerField(_("radius for villages (m)"), null=True, blank=True)
    demand_kind = models.CharField(_("demand points"), max_length=16, choices=Demand.choices, default=Demand.ALL)
    level = models.CharField(_("level"), max_length=16, choices=Division.Level.choices, blank=True)
    division_kinds = models.CharField(
        _("division kinds"),
        max_length=64,
        blank=True,
        help_text=_("Comma-separated kinds of the level the rule applies to (e.g. town,township); blank: all."),
    )
    min_count = models.PositiveSmallIntegerField(_("at least"), default=1)
    beds_per_1000_elderly = models.FloatField(_("beds per 1,000 aged 60+"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=255)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "kind"]
        verbose_name = _("coverage standard")
        verbose_name_plural = _("coverage standards")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "kind"], condition=models.Q(active=True), name="one_active_standard_per_kind"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="radius")
                | models.Q(radius_urban_m__isnull=False)
                | models.Q(radius_rural_m__isnull=False),
                name="radius_standard_has_radius",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["presence", "capacity"]) | ~models.Q(level=""),
                name="presence_capacity_standard_has_level",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="capacity") | models.Q(beds_per_1000_elderly__isnull=False),
                name="capacity_standard_has_ratio",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.get_kind_display()}"

    @property
    def kinds_list(self) -> list[str]:
        return [k.strip() for k in self.division_kinds.split(",") if k.strip()]

    def describe(self) -> dict:
        """The rule as the API shows it."""
        return {
            "id": self.pk,
            "category": self.category,
            "kind": self.kind,
            "radius_urban_m": self.radius_urban_m,
            "radius_rural_m": self.radius_rural_m,
            "demand_kind": self.demand_kind,
            "level": self.level or None,
            "division_kinds": self.kinds_list,
            "min_count": self.min_count,
            "beds_per_1000_elderly": self.beds_per_1000_elderly,
            "description": self.description,
            "source": self.source,
        }


class NearestFacility(models.Model):
    """Maintained, never edited: for each category with an active radius standard, each
    village/community point's nearest open facility of the category and its geodesic distance
    (metres on the WGS84 spheroid; ``facility`` and ``distance_m`` NULL when the category has no
    open facility), with what a roll-up needs of the demand point (kind, district, cluster,
    population, aged 60+, point) so that a roll-up reads this table alone; the lists of points
    read their names from the divisions, as they are now. Filled by one KNN pass and kept current
    by the services that create, move, close and import facilities and change a standard
    (``facilities.services``), and when the divisions change (rebuilt on
    ``boundaries.signals.divisions_changed`` after an import or generation; a division saved one
    by one through the ORM, on ``post_save``). Coverage of a radius standard reads it: covered =
    ``distance_m`` within the point's radius, so an edited radius needs no refresh."""

    category = models.CharField(max_length=32, choices=Facility.Category.choices)
    demand = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16)
    district_id = models.BigIntegerField(null=True)
    cluster_id = models.CharField(max_length=32, null=True)
    population = models.BigIntegerField()
    elderly = models.BigIntegerField()
    point = models.PointField(srid=4326)
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, null=True, related_name="+")
    distance_m = models.FloatField(null=True)

    class Meta:
        verbose_name = _("nearest facility")
        constraints = [models.UniqueConstraint(fields=["demand", "category"], name="one_nearest_per_demand_category")]
        indexes = [models.Index(fields=["category", "kind", "district_id"], name="nearest_category_kind_district")]


class Scenario(models.Model):
    """A planner's what-if, saved under a name: facilities to add (points with a category and beds)
    and to close (ids) for one category's standard and an area (a district, a cluster or the
    municipality). Only the definition is kept; its coverage is computed when it is opened, against
    the data of that day. Listed for its owner; readable by every planner (shared by link)."""

    name = models.CharField(_("name"), max_length=128)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coverage_scenarios", verbose_name=_("owner")
    )
    category = models.CharField(_("category"), max_length=32, choices=Facility.Category.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=CoverageStandard.Kind.choices, blank=True)
    district_code = models.CharField(_("district/county"), max_length=6, blank=True)
    cluster = models.CharField(_("cluster"), max_length=32, blank=True)
    added = models.JSONField(_("facilities added"), default=list)
    closed = models.JSONField(_("facilities closed"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("coverage scenario")
        verbose_name_plural = _("coverage scenarios")
