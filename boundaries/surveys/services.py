"""The life of a survey upload: a surveyor sends a field file for a line of their team; it is kept
unchanged, parsed into staging and validated against the official line
(``boundaries.surveys.validation``); a reviewer accepts it, which records the inspection through
``boundaries.inspections.inspection_record`` (the only way an upload changes the official record),
or returns it.
"""

import hashlib
import logging
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from boundaries.inspections import MarkerReport, inspection_record
from boundaries.models import BoundaryLine
from boundaries.surveys.models import StagedFeature, SurveyUpload
from boundaries.surveys.parsing import UploadLimits, UploadTooLarge, survey_file_parse
from boundaries.surveys.validation import survey_upload_validate
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import Conflict, Forbidden, InvalidParameter, NotFound
from gis_portal.core.roles import REVIEWER, SURVEYOR, user_has_role

logger = logging.getLogger(__name__)

DEFAULT_TOLERANCE_M = 5.0
MAX_TOLERANCE_M = 500.0


class DuplicateUpload(Conflict):
    code = "duplicate_upload"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


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
        logger.info("upload by %s refused: duplicate of upload %s", user, first.pk)
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
                geom=GEOSGeometry(memoryview(feature.geometry.wkb), srid=WGS84),
                attributes={k: str(v) for k, v in feature.attributes.items() if v is not None},
            )
            for index, feature in enumerate(parsed.features, start=1)
        )
        upload.report = survey_upload_validate(upload=upload)
        upload.skip_history_when_saving = True  # the creation above is the audited step
        upload.save(update_fields=["report"])
        del upload.skip_history_when_saving
    logger.info(
        "upload %s of line %s by %s: %d features, passed=%s",
        upload.pk,
        line.code,
        user,
        len(parsed.features),
        upload.report["passed"],
    )
    return upload


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
            upload.inspection = inspection_record(
                line=upload.line,
                team=upload.team,
                date=upload.survey_date,
                markers=_marker_reports(upload),
                findings=(upload.review_comment or "") + f" [survey upload {upload.pk}: {upload.original_name}]",
                user=user,
            )
        upload._history_user = user
        upload.save()
    logger.info("upload %s %s by %s", upload.pk, upload.status, user)
    return upload


def _marker_reports(upload: SurveyUpload) -> list[MarkerReport]:
    """The matched markers of an upload as the inspection record takes them: where each was found
    and the state the file reports (a ``status`` attribute), if any."""
    features = upload.features.filter(kind=StagedFeature.Kind.MARKER, marker__isnull=False)
    return [
        MarkerReport(
            marker_id=f.marker_id,
            location=f.geom,
            status=str(f.attributes.get("status", "")).strip().lower() or None,
        )
        for f in features.order_by("index")
    ]
