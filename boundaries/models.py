"""Administrative divisions of Chongqing and the region's clusters (一区两群).

Geometries are stored in EPSG:4326 (WGS84; CGCS2000 agrees to well under a metre here). Areas are
geodesic, in square metres.
"""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class Cluster(models.Model):
    """One of the three parts of the region: the urban core and the two outer town clusters."""

    slug = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=16)
    color = models.CharField(_("map colour"), max_length=7, help_text="#rrggbb")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")

    def __str__(self) -> str:
        return self.name


class Division(models.Model):
    """A statistical division: the municipality, a district/county, a township/street or a
    village/community, identified by its 6-, 9- or 12-digit statistical code."""

    class Level(models.TextChoices):
        MUNICIPALITY = "municipality", _("municipality")
        DISTRICT = "district", _("district/county")
        TOWNSHIP = "township", _("township/street")
        VILLAGE = "village", _("village/community")

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("municipality")
        DISTRICT = "district", _("district")
        COUNTY = "county", _("county")
        STREET = "street", _("street (街道)")
        TOWN = "town", _("town (镇)")
        TOWNSHIP = "township", _("township (乡)")
        COMMUNITY = "community", _("community (社区)")
        VILLAGE = "village", _("village (村)")

    code = models.CharField(_("statistical code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64, db_index=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    # Set on every division below the municipality (a district's own cluster, inherited below it)
    # so that any level filters by cluster without walking up the tree.
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="divisions")
    geom = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    point = models.PointField(
        _("representative point"),
        srid=4326,
        null=True,
        blank=True,
        help_text=_("Inside the boundary; for a village/community, its location."),
    )
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    elderly_population = models.PositiveIntegerField(_("population aged 60+"), null=True, blank=True)
    is_synthetic = models.BooleanField(
        _("synthetic"),
        default=False,
        help_text=_("Geometry, location or population generated for the demo, not surveyed."),
    )
    source = models.CharField(_("source"), max_length=255, blank=True)
    source_datum = models.CharField(
        _("source datum"), max_length=32, blank=True, help_text=_("e.g. GCJ-02, WGS84, generated")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        indexes = [models.Index(fields=["level", "cluster"]), models.Index(fields=["parent", "level"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"),
                name="division_code_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(level="municipality") | models.Q(parent__isnull=False),
                name="division_parent_below_municipality",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DivisionPiece(models.Model):
    """A piece of a division's polygon cut by ST_Subdivide into at most ``MAX_VERTICES`` vertices.

    Derived from ``Division.geom`` (rebuilt by ``boundaries.services.division_pieces_rebuild``):
    point-in-polygon tests against small indexed pieces are much faster than against whole
    districts of thousands of vertices. Not edited by hand."""

    MAX_VERTICES = 128

    division = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="pieces")
    level = models.CharField(max_length=16, choices=Division.Level.choices)
    geom = models.PolygonField(srid=4326)

    class Meta:
        verbose_name = _("division piece")
        indexes = [models.Index(fields=["division"])]
