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
import posixpath
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from boundaries.inspections import MarkerReport, inspection_record
from boundaries.models import BoundaryLine, SurveyTeam
from boundaries.surveys.models import QueuedSurveyFile, StagedFeature, SurveyUpload
from boundaries.surveys.parsing import ParsedFile, UploadLimits, UploadTooLarge, survey_file_parse
from boundaries.surveys.selectors import survey_uploads_visible
from boundaries.surveys.tolerances import LineTolerance, line_tolerance
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
from gis_portal.jobs.models import Job
from gis_portal.jobs.services import job_enqueue

logger = logging.getLogger(__name__)

# The job that validates a file over SURVEY_UPLOAD_JOB_BYTES (registered in boundaries.surveys.tasks).
SURVEY_UPLOAD_JOB = "surveys.upload"


class DuplicateUpload(Conflict):
    code = "duplicate_upload"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


def survey_upload_url(upload: SurveyUpload) -> str:
    return reverse("survey-upload-detail", kwargs={"pk": upload.pk})


@dataclass(frozen=True)
class Admission:
    """Who may upload for which line, checked before a file is read: the line, the user's team on
    it, the line level's tolerance and the survey date."""

    line: BoundaryLine
    team: SurveyTeam
    tolerance: LineTolerance
    survey_date: date


@dataclass
class CheckedFile:
    """A file admitted, not a duplicate, and parsed in the sandbox: what ``survey_upload_write``
    stages and validates."""

    user: AbstractBaseUser
    admission: Admission
    name: str
    data: bytes
    sha256: str
    parsed: ParsedFile


def survey_upload_admit(
    *,
    user: AbstractBaseUser,
    line_code: str,
    name: str,
    size: int | None,
    survey_date: date | None,
    limits: UploadLimits,
) -> Admission:
    """Whether ``user`` may upload a file of ``size`` bytes for the line: 403 when they are no
    surveyor or the line is not their team's, 404 for an unknown line, 400 for a survey date in
    the future, 413 past the size limit."""
    if not user_has_role(user, SURVEYOR):
        raise Forbidden("only members of a survey team may upload field data")
    line = BoundaryLine.objects.filter(code=line_code).first()
    if line is None:
        raise NotFound(f"no boundary line {line_code!r}")
    team = line.teams.filter(members=user).first()
    if team is None:
        raise Forbidden(f"line {line.code} is not assigned to your team")
    survey_date = survey_date or timezone.localdate()
    if survey_date > timezone.localdate():
        raise InvalidParameter("survey_date is in the future")
    if size is not None and size > limits.max_bytes:
        logger.info("upload by %s refused: %s is %d bytes, over the limit", user, name, size)
        raise UploadTooLarge(f"{name}: {size:,} bytes; the limit is {limits.max_bytes:,}")
    return Admission(line=line, team=team, tolerance=line_tolerance(line), survey_date=survey_date)


def survey_upload_check(
    *,
    user: AbstractBaseUser,
    admission: Admission,
    name: str,
    data: bytes,
    crs: str | None,
    encoding: str | None,
    limits: UploadLimits,
) -> CheckedFile:
    """Refuse a file uploaded before (409) and parse it in the sandbox (4xx with the reason, 422
    past a reading limit): the step the synchronous upload and the upload job both take."""
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
    return CheckedFile(user=user, admission=admission, name=name, data=data, sha256=sha256, parsed=parsed)


def survey_upload_runs_as_job(file: UploadedFile) -> bool:
    """Whether an upload is too large to validate within the request (over SURVEY_UPLOAD_JOB_BYTES):
    then ``survey_upload_enqueue`` queues it, else ``survey_upload_create`` validates it at once."""
    return file.size > settings.SURVEY_UPLOAD_JOB_BYTES


def _upload_admit_and_read(
    *, user: AbstractBaseUser, line_code: str, file: UploadedFile, survey_date: date | None, limits: UploadLimits
) -> tuple[Admission, str, bytes]:
    """Who may upload the file, checked before it is read (``survey_upload_admit``), then its name
    and bytes (one byte past the limit at most, for the parser to refuse)."""
    name = (file.name or "upload")[:255]
    admission = survey_upload_admit(
        user=user, line_code=line_code, name=name, size=file.size, survey_date=survey_date, limits=limits
    )
    return admission, name, file.read(limits.max_bytes + 1)


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
    limit). The tolerance is the line level's."""
    limits = limits or UploadLimits.from_settings()
    admission, name, data = _upload_admit_and_read(
        user=user, line_code=line_code, file=file, survey_date=survey_date, limits=limits
    )
    checked = survey_upload_check(
        user=user, admission=admission, name=name, data=data, crs=crs, encoding=encoding, limits=limits
    )
    return survey_upload_write(checked=checked)


def survey_upload_enqueue(
    *,
    user: AbstractBaseUser,
    line_code: str,
    file: UploadedFile,
    crs: str | None = None,
    encoding: str | None = None,
    survey_date: date | None = None,
    limits: UploadLimits | None = None,
) -> Job:
    """Queue a file too big to validate within a request (over ``SURVEY_UPLOAD_JOB_BYTES``): who may
    upload it, its size and a duplicate are checked now, answered as ``survey_upload_create``
    answers them; its bytes wait in PostgreSQL (``QueuedSurveyFile``) for the job
    (``boundaries.surveys.tasks``), which checks and parses it with the same services and limits and
    writes the upload in its finishing transaction. The job and its file are written together."""
    limits = limits or UploadLimits.from_settings()
    admission, name, data = _upload_admit_and_read(
        user=user, line_code=line_code, file=file, survey_date=survey_date, limits=limits
    )
    sha256 = hashlib.sha256(data).hexdigest()
    _refuse_duplicate(user=user, sha256=sha256, name=name)
    params = {
        "user_id": user.pk,
        "line_code": admission.line.code,
        "crs": crs,
        "encoding": encoding,
        "survey_date": admission.survey_date.isoformat(),
    }
    try:
        with transaction.atomic():
            _refuse_queued_twice(user=user, sha256=sha256, name=name)
            job = job_enqueue(kind=SURVEY_UPLOAD_JOB, params=params, owner=user)
            QueuedSurveyFile.objects.create(job=job, name=name, sha256=sha256, data=data)
    except IntegrityError:
        _refuse_queued_twice(user=user, sha256=sha256, name=name)  # lost a race with the same file
        raise
    logger.info("upload by %s of %s (%d bytes) for line %s queued as job %s", user, name, len(data), line_code, job.pk)
    return job


def survey_upload_queue_release(job: Job) -> None:
    """The queued bytes of an upload job, deleted in the transaction that ends it."""
    QueuedSurveyFile.objects.filter(job=job).delete()


def _refuse_queued_twice(*, user: AbstractBaseUser, sha256: str, name: str) -> None:
    """409 if these bytes already wait for validation (naming the job only to its owner)."""
    waiting = QueuedSurveyFile.objects.filter(sha256=sha256).select_related("job").first()
    if waiting is None:
        return
    logger.info("upload by %s of %s refused: the same bytes wait as job %s", user, name, waiting.job_id)
    if waiting.job.owner_id == user.pk:
        url = reverse("job-detail", args=[waiting.job_id])
        raise DuplicateUpload(
            f"this file is already being validated as job {waiting.job_id}: {url}",
            details={"job": waiting.job_id, "url": url},
        )
    raise DuplicateUpload("someone else's upload of this file is already being validated; nothing was stored")


def survey_upload_write(*, checked: CheckedFile, job: Job | None = None) -> SurveyUpload:
    """Stage and validate a checked file, and keep its original, in the caller's transaction (a
    job's finishing one, or the request's own). The original is written as the last step: a full
    disk answers 507 and leaves no row and no file, and a rollback up to here removes it. A job's
    original has a name of the job's own (``job_original_name``): an attempt killed before its
    commit left a file there, which the retry replaces."""
    admission, name, data, user = checked.admission, checked.name, checked.data, checked.user
    stored: list[str] = []
    try:
        with transaction.atomic():
            upload = _stage(
                user=user, line=admission.line, team=admission.team, name=name, data=data,
                sha256=checked.sha256, parsed=checked.parsed, tolerance=admission.tolerance,
                survey_date=admission.survey_date, job=job,
            )  # fmt: skip
            stored.append(_store_original(upload=upload, data=data, replace=job is not None))
    except BaseException as exc:
        for written in stored:  # the row is gone (rolled back, or the commit failed): so goes its file
            SurveyUpload._meta.get_field("file").storage.delete(written)
        if not isinstance(exc, IntegrityError):
            raise
        if not SurveyUpload.objects.filter(sha256=checked.sha256).exists():
            raise
        logger.info("upload by %s of %s lost a race with an identical upload", user, name)
        _refuse_duplicate(user=user, sha256=checked.sha256, name=name)
        raise
    logger.info(
        "upload %s of line %s by %s: %s, %d bytes, %d features, passed=%s%s; reader %s",
        upload.pk, admission.line.code, user, name, len(data), len(checked.parsed.features), upload.report["passed"],
        f" (job {job.pk})" if job else "", checked.parsed.stats,
    )  # fmt: skip
    return upload


def job_original_name(job: Job, name: str) -> str:
    """Where the original of a job's upload is kept: under the month the job was queued, named
    by the job (the storage's valid name, as for any upload), so that every attempt of the job
    writes the same file."""
    field = SurveyUpload._meta.get_field("file")
    directory = timezone.localtime(job.created_at).strftime(field.upload_to)
    return field.storage.generate_filename(posixpath.join(directory, f"job{job.pk}-{name}"))


def _stage(*, user, line, team, name, data, sha256, parsed, tolerance, survey_date, job=None) -> SurveyUpload:
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
        job=job,
    )
    upload._history_user = user
    field = SurveyUpload._meta.get_field("file")
    upload.file = job_original_name(job, name) if job else field.generate_filename(upload, f"{sha256[:16]}-{name}")
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


def _store_original(*, upload: SurveyUpload, data: bytes, replace: bool = False) -> str:
    """Write an upload's original file (``FILE_UPLOAD_PERMISSIONS``: not world-readable) in the
    caller's transaction and return its name; a full disk is a 507 with nothing left behind.
    ``replace``: the name is the upload's own (a job's), and a file there is a leftover to replace."""
    storage = SurveyUpload._meta.get_field("file").storage
    if replace and storage.exists(upload.file.name):
        logger.warning("upload %s: replacing %s, left by an attempt killed before its commit", upload.pk, upload.file)
        storage.delete(upload.file.name)
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
