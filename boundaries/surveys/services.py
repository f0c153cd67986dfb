"""The life of a survey upload: a surveyor sends a field file for a line of their team; it is
parsed in a sandbox (``boundaries.surveys.parsing``) into staging and validated against the official
line with the tolerance of the line's level (``boundaries.surveys.validation``,
``boundaries.surveys.tolerances``); the original is kept unchanged, written once the transaction
commits. Another reviewer than the uploader accepts it, which records the inspection through
``boundaries.inspections.inspection_record`` (the only way an upload changes the official record),
or returns it; accepting a report that did not pass needs an override with a reason, recorded.
Refusals, limits hit and duplicates are logged with the user and the size.
"""

import errno
import hashlib
import logging
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from boundaries.inspections import MarkerReport, inspection_record
from boundaries.models import BoundaryLine
from boundaries.surveys.models import StagedFeature, SurveyUpload
from boundaries.surveys.parsing import UploadLimits, UploadTooLarge, survey_file_parse
from boundaries.surveys.selectors import survey_uploads_visible
from boundaries.surveys.tolerances import line_tolerance
from boundaries.surveys.validation import survey_upload_validate
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import (
    Conflict,
    Forbidden,
    InsufficientStorage,
    InvalidParameter,
    NotFound,
    ServiceError,
)
from gis_portal.core.roles import REVIEWER, SURVEYOR, user_has_role

logger = logging.getLogger(__name__)


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
    survey_date: date | None = None,
    limits: UploadLimits | None = None,
) -> SurveyUpload:
    """Keep, stage and validate a field file; raise a 4xx ServiceError and write nothing if the
    user may not upload for the line or the file cannot be accepted (422 when reading it passes a
    limit). The tolerance is the line level's. The original is written as the transaction's last
    step: a full disk answers 507 and leaves no row and no file, and a failed commit removes it."""
    limits = limits or UploadLimits.from_settings()
    if not user_has_role(user, SURVEYOR):
        raise Forbidden("only members of a survey team may upload field data")
    line = BoundaryLine.objects.filter(code=line_code).first()
    if line is None:
        raise NotFound(f"no boundary line {line_code!r}")
    team = line.teams.filter(members=user).first()
    if team is None:
        raise Forbidden(f"line {line.code} is not assigned to your team")
    tolerance = line_tolerance(line)
    survey_date = survey_date or timezone.localdate()
    if survey_date > timezone.localdate():
        raise InvalidParameter("survey_date is in the future")
    name = (file.name or "upload")[:255]
    if file.size is not None and file.size > limits.max_bytes:
        logger.info("upload by %s refused: %s is %d bytes, over the limit", user, name, file.size)
        raise UploadTooLarge(f"{file.name}: {file.size:,} bytes; the limit is {limits.max_bytes:,}")
    data = file.read(limits.max_bytes + 1)
    sha256 = hashlib.sha256(data).hexdigest()
    _refuse_duplicate(user=user, sha256=sha256, name=name)
    try:
        parsed = survey_file_parse(data=data, filename=name, crs=crs, encoding=encoding, limits=limits)
    except ServiceError as exc:
        logger.log(
            logging.WARNING if exc.status == 422 else logging.INFO,
            "upload by %s refused (%s %s): %s, %d bytes: %s; reader %s",
            user, exc.status, exc.code, name, len(data), exc.message, getattr(exc, "reader_stats", {}),
        )  # fmt: skip
        raise
    stored: list[str] = []
    try:
        with transaction.atomic():
            upload = _stage(
                user=user, line=line, team=team, name=name, data=data, sha256=sha256, parsed=parsed,
                tolerance=tolerance, survey_date=survey_date,
            )  # fmt: skip
            stored.append(_store_original(upload=upload, data=data))
    except BaseException as exc:
        for written in stored:  # the row is gone (rolled back, or the commit failed): so goes its file
            SurveyUpload._meta.get_field("file").storage.delete(written)
        if not isinstance(exc, IntegrityError):
            raise
        if not SurveyUpload.objects.filter(sha256=sha256).exists():
            raise
        logger.info("upload by %s of %s lost a race with an identical upload", user, name)
        _refuse_duplicate(user=user, sha256=sha256, name=name)
        raise
    logger.info(
        "upload %s of line %s by %s: %s, %d bytes, %d features, passed=%s; reader %s",
        upload.pk, line.code, user, name, len(data), len(parsed.features), upload.report["passed"], parsed.stats,
    )  # fmt: skip
    return upload


def _stage(*, user, line, team, name, data, sha256, parsed, tolerance, survey_date) -> SurveyUpload:
    """The upload row, its staged features and its report, in the caller's transaction (the caller
    writes the original file last)."""
    upload = SurveyUpload(
        line=line,
        team=team,
        uploaded_by=user,
        original_name=name,
        sha256=sha256,
        size_bytes=len(data),
        file_format=parsed.format,
        crs=parsed.crs,
        crs_source=parsed.crs_source,
        survey_date=survey_date,
        tolerance_m=tolerance.metres,
        tolerance_source=tolerance.source,
    )
    upload._history_user = user
    upload.file = SurveyUpload._meta.get_field("file").generate_filename(upload, f"{sha256[:16]}-{name}")
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
    return upload


def _store_original(*, upload: SurveyUpload, data: bytes) -> str:
    """Write an upload's original file (``FILE_UPLOAD_PERMISSIONS``: not world-readable) in the
    caller's transaction and return its name; a full disk is a 507 with nothing left behind."""
    storage = SurveyUpload._meta.get_field("file").storage
    name = storage.get_available_name(upload.file.name)  # chosen before writing: a failure knows its file
    try:
        stored = storage.save(name, ContentFile(data))
    except OSError as exc:
        if storage.exists(name):  # what a full disk let through
            storage.delete(name)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            logger.error("no room for the original of upload %s (%d bytes) at %s", upload.pk, len(data), name)
            raise InsufficientStorage(f"no room to keep {upload.original_name} ({len(data):,} bytes)") from exc
        logger.exception("the original file of upload %s could not be written to %s", upload.pk, name)
        raise
    if stored != name:  # the storage found the name taken and chose another
        upload.file.name = stored
        SurveyUpload.objects.filter(pk=upload.pk).update(file=stored)
    return stored


def _refuse_duplicate(*, user: AbstractBaseUser, sha256: str, name: str) -> None:
    """409 if these bytes were uploaded before: naming the first upload only to someone who may
    see it. Another team is told only that the file is there: the checksum is unique across teams
    (one file is evidence for one survey), so the refusal itself cannot be hidden, but who sent it,
    when, for which line and under what name stays theirs."""
    first = SurveyUpload.objects.filter(sha256=sha256).first()
    if first is None:
        return
    if survey_uploads_visible(user=user).filter(pk=first.pk).exists():
        logger.info("upload by %s of %s refused: duplicate of upload %s", user, name, first.pk)
        raise DuplicateUpload(
            f"this file was uploaded before as upload {first.pk} ({first.original_name}, "
            f"{timezone.localtime(first.uploaded_at):%Y-%m-%d %H:%M}): {survey_upload_url(first)}",
            details={"first_upload": first.pk, "url": survey_upload_url(first)},
        )
    logger.warning(
        "upload by %s of %s refused: same bytes as upload %s of team %s, which they may not see",
        user, name, first.pk, first.team_id,
    )  # fmt: skip
    raise DuplicateUpload("this file was already uploaded by another team; nothing was stored")


class OwnUpload(Forbidden):
    code = "own_upload"


class OverrideRequired(InvalidParameter):
    code = "override_required"


def survey_upload_review(
    *,
    upload: SurveyUpload,
    user: AbstractBaseUser,
    accept: bool,
    comment: str = "",
    override: bool = False,
    override_reason: str = "",
) -> SurveyUpload:
    """A reviewer accepts or returns an upload of someone else (nobody reviews their own, whatever
    their roles). Accepting an upload whose report did not pass needs ``override`` and a reason,
    which are recorded on the upload and in the inspection's findings. Acceptance, in one
    transaction, records the inspection of the line, checks and moves its matched markers (their
    previous positions and states stay in their history) and marks the line inspected."""
    if not user_has_role(user, REVIEWER):
        raise Forbidden("only reviewers may accept or return survey uploads")
    with transaction.atomic():
        upload = SurveyUpload.objects.select_for_update().select_related("line", "team").get(pk=upload.pk)
        if upload.uploaded_by_id == user.pk:
            logger.warning("user %s tried to review their own upload %s", user, upload.pk)
            raise OwnUpload("you uploaded this file: another reviewer must accept or return it")
        if upload.status != SurveyUpload.Status.VALIDATED:
            raise AlreadyReviewed(f"upload {upload.pk} was already {upload.get_status_display()}")
        if not accept and not comment.strip():
            raise InvalidParameter("say why the upload is returned (comment)")
        failed = not upload.report.get("passed")
        if accept and failed and not (override and override_reason.strip()):
            raise OverrideRequired(
                f"upload {upload.pk} did not pass validation: accepting it needs override=true and an "
                "override_reason saying why"
            )
        upload.status = SurveyUpload.Status.ACCEPTED if accept else SurveyUpload.Status.RETURNED
        upload.reviewed_by, upload.reviewed_at, upload.review_comment = user, timezone.now(), comment.strip()
        if accept and failed:
            upload.accepted_despite_failure, upload.override_reason = True, override_reason.strip()[:2000]
        if accept:
            overridden = f" [accepted despite a failed report: {upload.override_reason}]" if failed else ""
            upload.inspection = inspection_record(
                line=upload.line,
                team=upload.team,
                date=upload.survey_date,
                markers=_marker_reports(upload),
                findings=(upload.review_comment or "") + f" [survey upload {upload.pk}]" + overridden,
                user=user,
            )
        upload._history_user = user
        upload.save()
    logger.info(
        "upload %s %s by %s%s",
        upload.pk,
        upload.status,
        user,
        " (override: failed report)" if failed and accept else "",
    )
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


def survey_uploads_lines_replaced(*, replaced: dict[int, int | None], **_signal) -> None:
    """Receiver of ``boundaries.signals.boundary_lines_replaced``: uploads of a line that another
    takes over move to it. An upload of a line retired with no successor (between two merged
    townships) has no line to belong to: the change is refused (Conflict) until staff decide."""
    stranded = SurveyUpload.objects.filter(line_id__in=[old for old, new in replaced.items() if new is None])
    if stranded.exists():
        codes = sorted(set(stranded.values_list("line__code", flat=True)))
        raise Conflict(
            f"survey uploads refer to line(s) {', '.join(codes)}, which this change retires; "
            "review or withdraw them first"
        )
    for old, new in replaced.items():
        if new is not None:
            SurveyUpload.objects.filter(line_id=old).update(line_id=new)
