"""The life of a survey upload: a surveyor sends a field file for a line of their team; it is kept
unchanged, parsed into staging and validated against the official line; a reviewer accepts it
(which records the inspection and moves the markers, keeping their history) or returns it.

Distances are in metres: the track's deviation in the line's Gauss-Krüger zone
(boundaries.survey_validation), markers' displacements and distances on the spheroid (geography).
"""

import hashlib
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry, MultiLineString
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from boundaries.models import BoundaryLine, Inspection, Marker, MarkerCheck, StagedFeature, SurveyUpload
from boundaries.survey_files import UploadLimits, UploadTooLarge, survey_file_parse
from boundaries.survey_validation import track_deviation
from gis_portal.errors import InvalidParameter, NotFound, ServiceError
from gis_portal.roles import REVIEWER, SURVEYOR, user_has_role

DEFAULT_TOLERANCE_M = 5.0
MAX_TOLERANCE_M = 500.0


class Forbidden(ServiceError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"
    default_detail = "You may not do this."


class DuplicateUpload(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "duplicate_upload"


class AlreadyReviewed(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_reviewed"


def survey_upload_url(upload: SurveyUpload) -> str:
    return reverse("survey-upload-detail", kwargs={"pk": upload.pk})


def survey_upload_create(
    *,
    user: AbstractBaseUser,
    line_code: str,
    file: UploadedFile,
    crs: str | None = None,
    encoding: str | None = None,
    tolerance_m: float | None = None,
    survey_date: date | None = None,
    limits: UploadLimits | None = None,
) -> SurveyUpload:
    """Keep, stage and validate a field file; raise a 4xx ServiceError and write nothing if the
    user may not upload for the line or the file cannot be accepted."""
    limits = limits or UploadLimits.from_settings()
    if not user_has_role(user, SURVEYOR):
        raise Forbidden("only members of a survey team may upload field data")
    line = BoundaryLine.objects.filter(code=line_code).first()
    if line is None:
        raise NotFound(f"no boundary line {line_code!r}")
    team = line.teams.filter(members=user).first()
    if team is None:
        raise Forbidden(f"line {line.code} is not assigned to your team")
    tolerance_m = DEFAULT_TOLERANCE_M if tolerance_m is None else tolerance_m
    if not 0 < tolerance_m <= MAX_TOLERANCE_M:
        raise InvalidParameter(f"tolerance_m must be between 0 and {MAX_TOLERANCE_M:g} metres")
    survey_date = survey_date or timezone.localdate()
    if survey_date > timezone.localdate():
        raise InvalidParameter("survey_date is in the future")
    if file.size is not None and file.size > limits.max_bytes:
        raise UploadTooLarge(f"{file.name}: {file.size:,} bytes; the limit is {limits.max_bytes:,}")
    data = file.read(limits.max_bytes + 1)
    sha256 = hashlib.sha256(data).hexdigest()
    first = SurveyUpload.objects.filter(sha256=sha256).first()
    if first is not None:
        raise DuplicateUpload(
            f"this file was uploaded before as upload {first.pk} ({first.original_name}, "
            f"{first.uploaded_at:%Y-%m-%d %H:%M}): {survey_upload_url(first)}",
            details={"first_upload": first.pk, "url": survey_upload_url(first)},
        )
    parsed = survey_file_parse(data=data, filename=file.name or "upload", crs=crs, encoding=encoding, limits=limits)

    with transaction.atomic():
        upload = SurveyUpload(
            line=line,
            team=team,
            uploaded_by=user,
            original_name=(file.name or "upload")[:255],
            sha256=sha256,
            size_bytes=len(data),
            file_format=parsed.format,
            crs=parsed.crs,
            crs_source=parsed.crs_source,
            survey_date=survey_date,
            tolerance_m=tolerance_m,
        )
        upload._history_user = user
        upload.file.save(f"{sha256[:16]}-{upload.original_name}", ContentFile(data), save=False)
        upload.save()
        StagedFeature.objects.bulk_create(
            StagedFeature(
                upload=upload,
                index=index,
                kind=feature.kind,
                number=feature.number[:64],
                geom=GEOSGeometry(memoryview(feature.geometry.wkb), srid=4326),
                attributes={k: str(v) for k, v in feature.attributes.items() if v is not None},
            )
            for index, feature in enumerate(parsed.features, start=1)
        )
        upload.report = survey_upload_validate(upload=upload)
        upload.skip_history_when_saving = True  # the creation above is the audited step
        upload.save(update_fields=["report"])
        del upload.skip_history_when_saving
    return upload


FEATURE_CHECKS_SQL = """
UPDATE boundaries_stagedfeature f
   SET inside_municipality = ST_Covers(m.geom, f.geom),
       distance_m = CASE WHEN f.kind = 'marker' THEN ST_Distance(f.geom::geography, l.geom::geography) END
  FROM boundaries_surveyupload u
  JOIN boundaries_boundaryline l ON l.id = u.line_id,
       boundaries_division m
 WHERE f.upload_id = u.id AND u.id = %(upload)s AND m.level = 'municipality'
"""
MARKER_MATCH_SQL = """
UPDATE boundaries_stagedfeature f
   SET marker_id = m.id, displacement_m = ST_Distance(f.geom::geography, m.geom::geography)
  FROM boundaries_marker m, boundaries_surveyupload u
 WHERE f.upload_id = %(upload)s AND u.id = f.upload_id AND f.kind = 'marker'
   AND m.number = f.number AND m.line_id = u.line_id
"""


def survey_upload_validate(*, upload: SurveyUpload) -> dict:
    """Check every staged feature (inside the municipality; tracks' deviation from the line;
    markers matched by number to the line's markers and their displacement) and return the report."""
    with connection.cursor() as cursor:
        cursor.execute(FEATURE_CHECKS_SQL, {"upload": upload.pk})
        cursor.execute(MARKER_MATCH_SQL, {"upload": upload.pk})
    features = list(upload.features.select_related("marker").order_by("index"))
    tolerance = upload.tolerance_m
    line_geom = upload.line.geom

    tracks = [f for f in features if f.kind == StagedFeature.Kind.TRACK]
    deviation = None
    if tracks:
        parts = []
        for track in tracks:
            parts.extend(track.geom if track.geom.geom_type == "MultiLineString" else [track.geom])
        deviation = track_deviation(
            track=MultiLineString(parts, srid=4326), line=line_geom, tolerance_m=tolerance
        ).as_dict()

    markers = [f for f in features if f.kind == StagedFeature.Kind.MARKER]
    matched = [f for f in markers if f.marker_id]
    numbers_in_file = {f.number for f in markers}
    expected = list(Marker.objects.filter(line=upload.line).order_by("sequence").values_list("number", flat=True))
    displacements = [f.displacement_m for f in matched]
    outside = [f.index for f in features if not f.inside_municipality]
    report = {
        "line": {"code": upload.line.code, "name": upload.line.name},
        "crs": f"EPSG:{upload.crs}",
        "crs_source": upload.crs_source,
        "tolerance_m": tolerance,
        "features": len(features),
        "tracks": len(tracks),
        "markers": len(markers),
        "all_geometry_valid": True,  # the parser refuses any invalid geometry
        "outside_municipality": outside,
        "track_deviation": deviation,
        "markers_matched": len(matched),
        "unknown_numbers": sorted(f.number for f in markers if not f.marker_id),
        "expected_missing": [n for n in expected if n not in numbers_in_file] if markers else [],
        "marker_displacement": {
            "max_m": max(displacements) if displacements else None,
            "mean_m": sum(displacements) / len(displacements) if displacements else None,
            "share_within": (sum(d <= tolerance for d in displacements) / len(displacements))
            if displacements
            else None,
        },
        "per_feature": [
            {
                "index": f.index,
                "kind": f.kind,
                "number": f.number or None,
                "inside_municipality": f.inside_municipality,
                "matched_marker": f.marker.number if f.marker else None,
                "displacement_m": f.displacement_m,
                "distance_to_line_m": f.distance_m,
            }
            for f in features
        ],
    }
    report["passed"] = bool(
        not outside
        and (deviation is None or deviation["share_within"] >= 0.95)
        and not report["unknown_numbers"]
        and (report["marker_displacement"]["share_within"] in (None, 1.0))
    )
    return report


def survey_upload_review(
    *, upload: SurveyUpload, user: AbstractBaseUser, accept: bool, comment: str = ""
) -> SurveyUpload:
    """A reviewer accepts or returns an upload. Acceptance, in one transaction, records the
    inspection of the line, checks and moves its matched markers (their previous positions and
    states stay in their history) and marks the line inspected."""
    if not user_has_role(user, REVIEWER):
        raise Forbidden("only reviewers may accept or return survey uploads")
    with transaction.atomic():
        upload = SurveyUpload.objects.select_for_update().select_related("line", "team").get(pk=upload.pk)
        if upload.status != SurveyUpload.Status.VALIDATED:
            raise AlreadyReviewed(f"upload {upload.pk} was already {upload.get_status_display()}")
        if not accept and not comment.strip():
            raise InvalidParameter("say why the upload is returned (comment)")
        upload.status = SurveyUpload.Status.ACCEPTED if accept else SurveyUpload.Status.RETURNED
        upload.reviewed_by, upload.reviewed_at, upload.review_comment = user, timezone.now(), comment.strip()
        if accept:
            upload.inspection = _record_inspection(upload=upload, user=user)
        upload._history_user = user
        upload.save()
    return upload


def _record_inspection(*, upload: SurveyUpload, user: AbstractBaseUser) -> Inspection:
    statuses = set(Marker.Status.values)
    checks = []
    features = list(
        upload.features.filter(kind=StagedFeature.Kind.MARKER, marker__isnull=False).select_related("marker")
    )
    # Markers loaded in bulk have no history yet: record their state before it changes.
    without_history = [f.marker for f in features if not f.marker.history.exists()]
    Marker.history.bulk_history_create(without_history, default_change_reason="before survey upload")
    for feature in features:
        marker = feature.marker
        reported = str(feature.attributes.get("status", "")).strip().lower()
        marker.status = reported if reported in statuses else marker.status
        marker.geom = feature.geom
        marker.last_checked = upload.survey_date
        marker._history_user = user
        marker.save()
        checks.append((marker, marker.status))
    problem = any(status != Marker.Status.INTACT for _, status in checks)
    inspection = Inspection.objects.create(
        line=upload.line,
        team=upload.team,
        date=upload.survey_date,
        result=Inspection.Result.PROBLEM if problem else Inspection.Result.CLEAR,
        findings=(upload.review_comment or "") + f" [survey upload {upload.pk}: {upload.original_name}]",
    )
    MarkerCheck.objects.bulk_create(MarkerCheck(inspection=inspection, marker=m, status=s) for m, s in checks)
    line = upload.line
    if line.last_inspected is None or upload.survey_date > line.last_inspected:
        line.last_inspected = upload.survey_date
    if line.status != BoundaryLine.Status.DISPUTED:
        line.status = BoundaryLine.Status.PROBLEM if problem else BoundaryLine.Status.CLEAR
    line.save(update_fields=["last_inspected", "status"])
    return inspection


def survey_uploads_visible(*, user: AbstractBaseUser) -> QuerySet[SurveyUpload]:
    """The uploads a user may see: reviewers all, surveyors their teams'."""
    uploads = SurveyUpload.objects.select_related("line", "team", "uploaded_by", "reviewed_by")
    return uploads if user_has_role(user, REVIEWER) else uploads.filter(team__members=user)


def survey_upload_get(*, user: AbstractBaseUser, pk: int) -> SurveyUpload:
    """An upload the user may see, or NotFound (another team's upload does not exist for them)."""
    upload = survey_uploads_visible(user=user).filter(pk=pk).first()
    if upload is None:
        raise NotFound(f"no survey upload {pk} that you may see")
    return upload
