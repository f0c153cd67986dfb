"""Survey uploads: a team's field file for one boundary line, kept unchanged with its checksum, and
the features it parsed, staged beside it (not in the official record) with what validation found.
Geometries are EPSG:4326; distances in metres. Only a reviewer's acceptance changes the official
record, and only through the boundaries services (see ``boundaries.surveys.services``).
"""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from boundaries.models import BoundaryLine, Inspection, Marker, SurveyTeam
from gis_portal.core.crs import WGS84


class SurveyUpload(models.Model):
    """A survey team's field file for one line: the original kept unchanged with its checksum, the
    features it parsed staged beside it (not in the official record), and the validation report.
    Only a reviewer's acceptance changes the official record (see boundaries.surveys.services)."""

    class Status(models.TextChoices):
        VALIDATED = "validated", _("awaiting review")
        ACCEPTED = "accepted", _("accepted")
        RETURNED = "returned", _("returned")

    line = models.ForeignKey(BoundaryLine, on_delete=models.PROTECT, related_name="uploads")
    team = models.ForeignKey(SurveyTeam, on_delete=models.PROTECT, related_name="uploads")
    uploaded_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="survey_uploads")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file = models.FileField(_("original file"), upload_to="survey_uploads/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    file_format = models.CharField(_("format"), max_length=16)
    crs = models.PositiveIntegerField(_("CRS (EPSG)"))
    crs_source = models.CharField(_("CRS from"), max_length=8, help_text=_("file, form or format"))
    survey_date = models.DateField(_("survey date"))
    tolerance_m = models.FloatField(_("tolerance (m)"), help_text=_("from the line's level"))
    tolerance_source = models.CharField(_("tolerance source"), max_length=300, blank=True)
    report = models.JSONField(_("validation report"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALIDATED)
    reviewed_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="reviewed_survey_uploads"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    accepted_despite_failure = models.BooleanField(
        _("accepted despite a failed report"), default=False, help_text=_("the reviewer overrode the validation")
    )
    override_reason = models.TextField(_("override reason"), blank=True)
    inspection = models.OneToOneField(
        Inspection, on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_upload"
    )
    job = models.OneToOneField(
        "jobs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("the job that validated it (a file over SURVEY_UPLOAD_JOB_BYTES); one upload per job"),
    )
    history = HistoricalRecords(excluded_fields=["report", "job"], table_name="boundaries_historicalsurveyupload")

    class Meta:
        db_table = "boundaries_surveyupload"  # kept from when uploads lived in the boundaries app
        ordering = ["-uploaded_at"]
        permissions = [("review_surveyupload", "Can accept or return a survey upload")]
        verbose_name = _("survey upload")
        verbose_name_plural = _("survey uploads")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.line.code})"


class StagedFeature(models.Model):
    """One feature parsed from an upload, in EPSG:4326, with what validation found about it."""

    class Kind(models.TextChoices):
        TRACK = "track", _("track")
        MARKER = "marker", _("marker")

    upload = models.ForeignKey(SurveyUpload, on_delete=models.CASCADE, related_name="features")
    index = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    number = models.CharField(_("marker number"), max_length=64, blank=True)
    geom = models.GeometryField(srid=WGS84)
    attributes = models.JSONField(default=dict)
    marker = models.ForeignKey(Marker, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    inside_municipality = models.BooleanField(default=False)
    distance_m = models.FloatField(_("distance to the line (m)"), null=True, blank=True)
    displacement_m = models.FloatField(_("displacement (m)"), null=True, blank=True)

    class Meta:
        db_table = "boundaries_stagedfeature"
        ordering = ["upload", "index"]
        constraints = [models.UniqueConstraint(fields=["upload", "index"], name="stagedfeature_upload_index")]


class QueuedSurveyFile(models.Model):
    """A survey file waiting for the job that validates it (one over SURVEY_UPLOAD_JOB_BYTES). Its
    bytes are kept in PostgreSQL, not on an app server's disk: any app server may queue it and any
    worker read it. It is deleted in the transaction that ends its job, succeeded or failed."""

    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, primary_key=True, related_name="+")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True, help_text=_("one file waits once"))
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("queued survey file")

    def __str__(self) -> str:
        return f"{self.name} (job {self.job_id})"
