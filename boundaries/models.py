"""The official record of the divisions and their boundary lines: the region's clusters (一区两群),
the statistical divisions (with the indexed pieces of their polygons), the boundary lines between
them with their tri-junctions and markers (界桩), the survey teams, and the joint inspections with
their rounds, marker checks and the problems found.

Geometries are stored in EPSG:4326 (WGS84; CGCS2000 agrees to well under a metre here). Areas are
geodesic, in square metres; lengths geodesic, in metres.
"""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_portal.core.crs import WGS84
from gis_portal.core.region import division_code_pattern


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
    geom = models.MultiPolygonField(_("boundary"), srid=WGS84, null=True, blank=True)
    point = models.PointField(
        _("representative point"),
        srid=WGS84,
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
                condition=models.Q(code__regex=division_code_pattern("district", "township", "village")),
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
    geom = models.PolygonField(srid=WGS84)

    class Meta:
        verbose_name = _("division piece")
        indexes = [models.Index(fields=["division"])]


class CurrentLineManager(models.Manager):
    """The lines in force (``valid_to`` empty): what every query asks for unless it is dated."""

    def get_queryset(self):
        return super().get_queryset().filter(valid_to__isnull=True)


class BoundaryLine(models.Model):
    """The shared edge of two adjacent divisions of one level, as one MultiLineString (EPSG:4326).

    ``left``/``right`` are the two sides in code order; a side that is a Division is linked, a
    neighbouring province is only named. ``length_m`` is geodesic (spheroid), in metres.

    Dated like the divisions, over [valid_from, valid_to) with an open bound empty: a line an
    applied division change retired keeps its row, with ``valid_to`` (its sides unlinked and
    only named, since the units it divided are gone) and ``replaced_by`` (the code of the line that
    took over its inspection history, empty when the line went outright); a line that change drew
    has ``valid_from``. ``objects`` holds the lines in force, ``dated`` every line."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("provincial")
        COUNTY = "county", _("county-level")
        TOWNSHIP = "township", _("township-level")

    class Status(models.TextChoices):
        CLEAR = "clear", _("clear")
        PROBLEM = "problem", _("problem")
        DISPUTED = "disputed", _("disputed")

    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=128)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    left_code = models.CharField(_("left side code"), max_length=12)
    left_name = models.CharField(_("left side name"), max_length=64)
    right_code = models.CharField(_("right side code"), max_length=12)
    right_name = models.CharField(_("right side name"), max_length=64)
    left_division = models.ForeignKey(
        Division, on_delete=models.CASCADE, null=True, blank=True, related_name="lines_left"
    )
    right_division = models.ForeignKey(
        Division, on_delete=models.CASCADE, null=True, blank=True, related_name="lines_right"
    )
    # One responsible district per line, so that roll-ups by district add up: the lower-coded side
    # of a county line, the district sharing most of a provincial line, a township line's district.
    district = models.ForeignKey(
        Division, on_delete=models.SET_NULL, null=True, blank=True, related_name="responsible_lines"
    )
    geom = models.MultiLineStringField(_("line"), srid=WGS84)
    length_m = models.FloatField(_("length (m)"))
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CLEAR)
    last_inspected = models.DateField(_("last inspected"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True, db_index=True)
    replaced_by = models.CharField(_("replaced by (line code)"), max_length=32, blank=True, db_default="")

    objects = CurrentLineManager()
    dated = models.Manager()

    class Meta:
        ordering = ["code"]
        base_manager_name = "dated"  # an inspection or a marker still reaches a retired line
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(valid_to__isnull=True), name="boundary_line_code_in_force"
            )
        ]
        verbose_name = _("boundary line")
        verbose_name_plural = _("boundary lines")

    def __str__(self) -> str:
        return self.name


class TriJunction(models.Model):
    """A point where three divisions of one level meet (for the county level on the municipal
    border, the third may be a neighbouring province, named by ``codes``)."""

    level = models.CharField(_("level"), max_length=16, choices=BoundaryLine.Level.choices, db_index=True)
    geom = models.PointField(_("point"), srid=WGS84)
    codes = models.CharField(_("division codes"), max_length=64, help_text=_("comma-separated, sorted"))
    names = models.CharField(_("division names"), max_length=255)
    divisions = models.ManyToManyField(Division, related_name="trijunctions", blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        ordering = ["level", "codes"]
        verbose_name = _("tri-junction")
        verbose_name_plural = _("tri-junctions")

    def __str__(self) -> str:
        return self.names


class CurrentMarkerManager(models.Manager):
    """The markers of the lines in force (a retired line's markers stay with it, as history)."""

    def get_queryset(self):
        return super().get_queryset().filter(line__valid_to__isnull=True)


class Marker(models.Model):
    """A boundary marker (界桩). ``number`` is the line code, the sequence and the type letter."""

    class Type(models.TextChoices):
        SINGLE = "single", _("single")
        PAIRED = "paired", _("paired")
        TRIPLE = "triple", _("triple (tri-junction)")

    class Status(models.TextChoices):
        INTACT = "intact", _("intact")
        DAMAGED = "damaged", _("damaged")
        LOST = "lost", _("lost")
        DISPLACED = "displaced", _("displaced")
        REPLACED = "replaced", _("replaced")

    TYPE_LETTER = {"single": "S", "paired": "P", "triple": "T"}

    number = models.CharField(_("number"), max_length=48, unique=True)
    line = models.ForeignKey(BoundaryLine, on_delete=models.CASCADE, related_name="markers")
    sequence = models.PositiveIntegerField(_("sequence"))
    marker_type = models.CharField(_("type"), max_length=8, choices=Type.choices)
    geom = models.PointField(_("location"), srid=WGS84)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INTACT)
    last_checked = models.DateField(_("last checked"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    history = HistoricalRecords()  # an accepted survey moves markers; earlier positions stay here

    objects = CurrentMarkerManager()
    dated = models.Manager()

    class Meta:
        ordering = ["line", "sequence"]
        base_manager_name = "dated"
        verbose_name = _("boundary marker")
        verbose_name_plural = _("boundary markers")

    def __str__(self) -> str:
        return self.number


class SurveyTeam(models.Model):
    name = models.CharField(_("name"), max_length=128, unique=True)
    members = models.ManyToManyField("auth.User", related_name="survey_teams", blank=True)
    lines = models.ManyToManyField(BoundaryLine, related_name="teams", blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey team")
        verbose_name_plural = _("survey teams")

    def __str__(self) -> str:
        return self.name


class InspectionRound(models.Model):
    """A joint-inspection round of one level of lines in one year."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=16, choices=BoundaryLine.Level.choices)

    class Meta:
        ordering = ["-year", "level"]
        constraints = [models.UniqueConstraint(fields=["year", "level"], name="inspectionround_year_level")]
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")

    def __str__(self) -> str:
        return f"{self.year} {self.get_level_display()}"


class Inspection(models.Model):
    class Result(models.TextChoices):
        CLEAR = "clear", _("clear")
        PROBLEM = "problem", _("problems found")
        DISPUTED = "disputed", _("dispute found")

    line = models.ForeignKey(BoundaryLine, on_delete=models.CASCADE, related_name="inspections")
    round = models.ForeignKey(
        InspectionRound, on_delete=models.PROTECT, null=True, blank=True, related_name="inspections"
    )
    team = models.ForeignKey(SurveyTeam, on_delete=models.SET_NULL, null=True, blank=True, related_name="inspections")
    date = models.DateField(_("date"))
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    findings = models.TextField(_("findings"), blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self) -> str:
        return f"{self.line} {self.date}"


class MarkerCheck(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="marker_checks")
    marker = models.ForeignKey(Marker, on_delete=models.CASCADE, related_name="checks")
    status = models.CharField(_("status"), max_length=16, choices=Marker.Status.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("marker check")
        verbose_name_plural = _("marker checks")


class BoundaryProblem(models.Model):
    """A problem or dispute risk found on a line (边界纠纷隐患), located by a point (EPSG:4326)."""

    class Kind(models.TextChoices):
        MARKER = "marker", _("marker damaged or lost")
        ENCROACHMENT = "encroachment", _("construction across the line")
        UNCLEAR = "unclear", _("line unclear on the ground")
        DISPUTE = "dispute", _("dispute")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    line = models.ForeignKey(BoundaryLine, on_delete=models.CASCADE, related_name="problems")
    inspection = models.ForeignKey(
        Inspection, on_delete=models.SET_NULL, null=True, blank=True, related_name="problems"
    )
    point = models.PointField(_("location"), srid=WGS84)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    reported = models.DateField(_("reported"))
    resolved = models.DateField(_("resolved"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        ordering = ["-reported"]
        verbose_name = _("boundary problem")
        verbose_name_plural = _("boundary problems")

    def __str__(self) -> str:
        return f"{self.line}: {self.get_kind_display()}"


# The division history's models live in their own module; importing them registers them with the app.
from boundaries.history_models import DivisionArea, DivisionChange, DivisionList, DivisionVersion, EstablishmentStandard  # noqa: E402, F401
from boundaries.proposal_models import DivisionProposal  # noqa: E402, F401
