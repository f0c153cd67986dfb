"""Writes of the place-name office. Naming applications go submitted → checked → public notice (公示)
→ approved or rejected (with reasons) → published; each step is one transaction that also writes a
``NamingEvent`` (who, when, from and to which status, why). Publishing creates the standard name, or
renames one (the old name stays as a former name with its dates, ``placenames.services``), or
retires it. Only naming officers (``gis_portal.core.roles.NAMING_OFFICER``) move an application past
"checked"; anyone may submit a suggestion and comment on a notice.

Officers edit a standard name's meaning and history (simple_history keeps every version). Signs are
in ``placenames.office.signs``."""

import datetime
import json
import logging

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.db import transaction
from django.utils import timezone

from boundaries.models import Division
from boundaries.names import name_split
from boundaries.selectors import division_locate
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import (
    Conflict,
    Forbidden,
    InvalidParameter,
    OutsideRegion,
)
from gis_portal.core.region import in_region
from gis_portal.core.roles import NAMING_OFFICER, user_has_role
from placenames.models import PlaceName
from placenames.naming_rules import OBJECT_GENERICS, name_validate
from placenames.office.models import NamingApplication, NamingEvent, NoticeComment, ObjectType
from placenames.office.selectors import proposal_findings
from placenames.services import placename_fields, placename_rename
from placenames.sign_rules import sign_pinyin_expected
from placenames.text import pinyin_word

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser
Status = NamingApplication.Status
TEXT_MAX = 2000
MAX_VERTICES = 500
# The standard name a published application creates, by object type.
FEATURE_CLASS = {
    ObjectType.COUNTY: PlaceName.FeatureClass.DISTRICT,
    ObjectType.DIVISION: PlaceName.FeatureClass.TOWNSHIP,
    ObjectType.COMMUNITY: PlaceName.FeatureClass.VILLAGE,
    ObjectType.VILLAGE: PlaceName.FeatureClass.VILLAGE,
    ObjectType.ROAD: PlaceName.FeatureClass.ROAD,
    ObjectType.BRIDGE: PlaceName.FeatureClass.FACILITY,
    ObjectType.RESIDENTIAL_AREA: PlaceName.FeatureClass.OTHER,
    ObjectType.NATURAL_FEATURE: PlaceName.FeatureClass.NATURAL,
}


# --- input ---------------------------------------------------------------------------------------


def location_parse(value) -> GEOSGeometry:
    """A GeoJSON Point or LineString (dict or string) in WGS84 as a geometry; InvalidParameter if it
    is anything else, not finite, or outside the region's bounding box."""
    if not value:
        raise InvalidParameter("location: a GeoJSON Point or LineString is required")
    try:
        geometry = GEOSGeometry(value if isinstance(value, str) else json.dumps(value), srid=WGS84)
    except (GEOSException, ValueError, TypeError) as exc:
        raise InvalidParameter("location: not a GeoJSON geometry") from exc
    if geometry.geom_type not in ("Point", "LineString"):
        raise InvalidParameter(f"location: a Point or LineString, not a {geometry.geom_type}")
    coords = [geometry.coords] if geometry.geom_type == "Point" else list(geometry.coords)
    if len(coords) > MAX_VERTICES:
        raise InvalidParameter(f"location: at most {MAX_VERTICES} vertices")
    for lon, lat, *_ in coords:
        if not (abs(lon) < float("inf") and abs(lat) < float("inf")) or not in_region(lon, lat):
            raise InvalidParameter(f"location: ({lon}, {lat}) is outside Chongqing")
    if geometry.geom_type == "LineString" and geometry.length == 0:
        raise InvalidParameter("location: the line has no length")
    return geometry


def location_from_lonlat(lon: str | float, lat: str | float) -> GEOSGeometry:
    try:
        point = Point(float(lon), float(lat), srid=WGS84)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter("location: longitude and latitude as numbers") from exc
    return location_parse(point.json)


def location_divisions(geometry: GEOSGeometry) -> tuple[Division, Division | None]:
    """The district and township a location lies in (a line: at its middle); InvalidParameter when
    any of it lies outside the municipality."""
    if geometry.geom_type == "LineString":
        outside = not Division.objects.filter(level=Division.Level.MUNICIPALITY, geom__covers=geometry).exists()
        if outside:
            raise InvalidParameter("location: the line leaves Chongqing")
        middle = geometry.interpolate_normalized(0.5)
    else:
        middle = geometry
    try:
        located = division_locate(lon=middle.x, lat=middle.y)
    except OutsideRegion as exc:
        raise InvalidParameter(f"location: ({middle.x:.6f}, {middle.y:.6f}) is outside Chongqing") from exc
    district = Division.objects.get(code=located["district"]["code"])
    township = Division.objects.filter(code=(located["township"] or {}).get("code", "")).first()
    return district, township


def name_parts(*, name: str, specific: str, generic: str, object_type: str) -> tuple[str, str, str]:
    """The name and its 专名/通名, stripped; when no split is given, the longest 通名 the object type
    takes is split off (else the division rules of ``boundaries.names``)."""
    name, specific, generic = name.strip(), specific.strip(), generic.strip()
    blocking = [f for f in name_validate(name=name) if f.rule in ("name.empty", "name.too_long")]
    if blocking:
        raise InvalidParameter(f"name: {blocking[0].message}")
    if not specific and not generic:
        for candidate in sorted(OBJECT_GENERICS.get(object_type, ()), key=len, reverse=True):
            if name.endswith(candidate) and len(name) > len(candidate):
                return name, name[: -len(candidate)], candidate
        specific, generic = name_split(name)
    return name, specific, generic


def text_limited(value: str | None, field: str, limit: int = TEXT_MAX) -> str:
    """``value`` stripped; InvalidParameter naming ``field`` when it is longer than ``limit``."""
    value = (value or "").strip()
    if len(value) > limit:
        raise InvalidParameter(f"{field}: at most {limit} characters")
    return value


def _officer_required(actor: User) -> None:
    if not user_has_role(actor, NAMING_OFFICER):
        raise Forbidden("only a naming officer may do this")


def _event(*, application: NamingApplication, actor: User | None, action: str, from_status: str, note: str = ""):
    NamingEvent.objects.create(
        application=application,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=application.status,
        note=note,
    )
    logger.info(
        "naming application %s: %s %s→%s by %s",
        application.pk,
        action,
        from_status or "-",
        application.status,
        actor.get_username() if actor is not None and actor.is_authenticated else "the public/system",
    )


def office_today() -> datetime.date:
    """Today in the bureau's time zone (notices and checks are dated by it)."""
    return timezone.localdate()


# --- naming applications -------------------------------------------------------------------------


@transaction.atomic
def application_submit(
    *,
    kind: str,
    object_type: str,
    name: str,
    specific: str = "",
    generic: str = "",
    location: GEOSGeometry | None = None,
    placename_id: int | None = None,
    reason: str = "",
    meaning: str = "",
    origin: str = "",
    submitter_name: str = "",
    submitter_contact: str = "",
    user: User | None = None,
) -> NamingApplication:
    """A suggestion or application from anyone, checked at once (status "checked", findings stored).
    Refused with InvalidParameter (nothing written) for an empty or over-long name, an unknown kind or
    object type, a location outside Chongqing, or a missing target of a renaming or cancellation."""
    if kind not in NamingApplication.Kind.values:
        raise InvalidParameter(f"kind: one of {', '.join(NamingApplication.Kind.values)}")
    if object_type not in ObjectType.values:
        raise InvalidParameter(f"object_type: one of {', '.join(ObjectType.values)}")
    placename = None
    if kind != NamingApplication.Kind.NAME:
        placename = PlaceName.objects.filter(pk=placename_id or 0, status=PlaceName.Status.STANDARD).first()
        if placename is None:
            raise InvalidParameter("placename_id: a renaming or cancellation names a current standard name")
        if kind == NamingApplication.Kind.CANCEL:
            name, specific, generic = placename.name, placename.specific, placename.generic
        if location is None and placename.point is not None:
            location = placename.point
    name, specific, generic = name_parts(name=name, specific=specific, generic=generic, object_type=object_type)
    if placename is not None and kind == NamingApplication.Kind.RENAME and name == placename.name:
        raise InvalidParameter("name: the place already has this name")
    if location is None:
        raise InvalidParameter("location: a GeoJSON Point or LineString is required")
    district, township = location_divisions(location)
    application = NamingApplication.objects.create(
        kind=kind,
        object_type=object_type,
        name=name,
        specific=specific,
        generic=generic,
        pinyin=sign_pinyin_expected(specific=specific, generic=generic),
        placename=placename,
        location=location,
        district=district,
        township=township,
        reason=text_limited(reason, "reason"),
        meaning=text_limited(meaning, "meaning"),
        origin=text_limited(origin, "origin"),
        submitter_name=text_limited(submitter_name, "submitter_name", 64),
        submitter_contact=text_limited(submitter_contact, "submitter_contact", 128),
        submitted_by=user if user is not None and user.is_authenticated else None,
        status=Status.SUBMITTED,
    )
    _event(application=application, actor=user, action="submit", from_status="")
    _check(application=application, actor=None)
    return application


def _check(*, application: NamingApplication, actor: User | None) -> None:
    before = application.status
    application.findings = proposal_findings(
        kind=application.kind,
        object_type=application.object_type,
        name=application.name,
        specific=application.specific,
        generic=application.generic,
        district=application.district,
        township=application.township,
        placename=application.placename,
        today=office_today(),
    )
    application.checked_at = timezone.now()
    if application.status == Status.SUBMITTED:
        application.status = Status.CHECKED
    application.save(update_fields=["findings", "checked_at", "status"])
    rules = sorted({f["rule"] for f in application.findings})
    _event(application=application, actor=actor, action="check", from_status=before, note=", ".join(rules))


@transaction.atomic
def application_recheck(*, application: NamingApplication, actor: User) -> NamingApplication:
    """Run the automatic checks again (e.g. after other names were published)."""
    _officer_required(actor)
    if application.status not in (Status.SUBMITTED, Status.CHECKED, Status.NOTICE):
        raise Conflict(f"an application {application.status} is not checked again")
    _check(application=application, actor=actor)
    return application


@transaction.atomic
def notice_open(
    *, application: NamingApplication, actor: User, start: datetime.date, end: datetime.date
) -> NamingApplication:
    """Put a checked application under public notice from ``start`` to ``end`` (inclusive)."""
    _officer_required(actor)
    if application.status != Status.CHECKED:
        raise Conflict(f"only a checked application goes to public notice (this one is {application.status})")
    if start < office_today() or end < start:
        raise InvalidParameter("notice: from today or later, and not ending before it starts")
    application.status, application.notice_start, application.notice_end = Status.NOTICE, start, end
    application.save(update_fields=["status", "notice_start", "notice_end"])
    _event(application=application, actor=actor, action="notice", from_status=Status.CHECKED, note=f"{start}–{end}")
    return application


@transaction.atomic
def notice_comment_add(*, application: NamingApplication, author: str, text: str) -> NoticeComment:
    """A comment from anyone while the notice runs."""
    today = office_today()
    if application.status != Status.NOTICE or not (application.notice_start <= today <= application.notice_end):
        raise Conflict("comments are taken only while the public notice runs")
    text = text_limited(text, "text")
    if not text:
        raise InvalidParameter("text: the comment is empty")
    return NoticeComment.objects.create(application=application, author=text_limited(author, "author", 64), text=text)


@transaction.atomic
def application_decide(*, application: NamingApplication, actor: User, approve: bool, reason: str) -> NamingApplication:
    """Approve or reject, with reasons. Approval needs the public notice to have run to its end and
    no blocking finding; rejection is possible from "checked" or during the notice."""
    _officer_required(actor)
    reason = text_limited(reason, "reason")
    if not reason:
        raise InvalidParameter("reason: a decision states its reasons")
    before = application.status
    if approve:
        if before != Status.NOTICE:
            raise Conflict(f"only an application under public notice is approved (this one is {before})")
        if office_today() < application.notice_end:
            raise Conflict(f"the public notice runs until {application.notice_end}")
        blocking = sorted({f["rule"] for f in application.findings if f.get("blocking")})
        if blocking:
            raise Conflict(f"blocking findings: {', '.join(blocking)}; reject or correct the application")
    elif before not in (Status.CHECKED, Status.NOTICE):
        raise Conflict(f"an application {before} cannot be rejected")
    application.status = Status.APPROVED if approve else Status.REJECTED
    application.decision_reason, application.decided_by, application.decided_at = reason, actor, timezone.now()
    application.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    _event(
        application=application, actor=actor, action="approve" if approve else "reject", from_status=before, note=reason
    )
    return application


def _spellings(*, name: str, specific: str, generic: str) -> dict:
    fields = placename_fields(name=name)
    tone = " ".join(w for w in (pinyin_word(specific, tone=True), pinyin_word(generic, tone=True)) if w)
    fields.update(
        specific=specific,
        generic=generic,
        pinyin=sign_pinyin_expected(specific=specific, generic=generic),
        pinyin_tone=tone,
    )
    return fields


@transaction.atomic
def application_publish(
    *, application: NamingApplication, actor: User, effective_on: datetime.date | None = None, approval_ref: str = ""
) -> PlaceName:
    """Publish an approved application: a new standard name, a renaming (the old name kept as a
    former name valid until the day before ``effective_on``) or a cancellation (the name retired,
    valid until the day before). Conflict unless approved."""
    _officer_required(actor)
    if application.status != Status.APPROVED:
        raise Conflict(f"only an approved application is published (this one is {application.status})")
    on = effective_on or office_today()
    ref = text_limited(approval_ref, "approval_ref", 128) or f"naming application {application.pk}"
    origin = "\n".join(t for t in (application.meaning, application.origin) if t)
    if application.kind == NamingApplication.Kind.NAME:
        point = application.location if application.location.geom_type == "Point" else None
        if point is None:
            point = application.location.interpolate_normalized(0.5)
            point.srid = WGS84
        feature_class = FEATURE_CLASS[application.object_type]
        parent = application.township or application.district
        if application.object_type == ObjectType.COUNTY:
            parent = application.district.parent
        placename = PlaceName.objects.create(
            **_spellings(name=application.name, specific=application.specific, generic=application.generic),
            feature_class=feature_class,
            rank=PlaceName.RANK.get(feature_class, PlaceName.OTHER_RANK),
            parent=parent,
            district=application.district,
            cluster_id=application.district.cluster_id,
            point=point,
            status=PlaceName.Status.STANDARD,
            meaning=origin,
            history_text=f"{on.isoformat()}: 命名 {ref}",
            approval_ref=ref,
            approval_date=on,
            valid_from=on,
            is_synthetic=application.is_synthetic,
        )
        application.placename = placename
    elif application.kind == NamingApplication.Kind.RENAME:
        placename = placename_rename(
            placename=application.placename,
            new_name=application.name,
            on=on,
            approval_ref=ref,
            note=application.reason[:255],
        )
        for field, value in _spellings(
            name=application.name, specific=application.specific, generic=application.generic
        ).items():
            setattr(placename, field, value)
        if origin:
            placename.meaning = origin
        placename.save()
    else:
        placename = application.placename
        if placename.valid_from and on <= placename.valid_from:
            raise InvalidParameter(f"effective_on: after the name's start ({placename.valid_from})")
        placename.status = PlaceName.Status.RETIRED
        placename.valid_to = on - datetime.timedelta(days=1)
        placename.history_text = (placename.history_text + f"\n{on.isoformat()}: 注销 {ref}").strip()
        placename.save()
    application.status, application.effective_on = Status.PUBLISHED, on
    application.approval_ref, application.published_at = ref, timezone.now()
    application.save(update_fields=["status", "effective_on", "approval_ref", "published_at", "placename"])
    _event(application=application, actor=actor, action="publish", from_status=Status.APPROVED, note=f"{ref}, {on}")
    return placename


# --- standard names' stories ---------------------------------------------------------------------


@transaction.atomic
def placename_story_edit(*, placename: PlaceName, actor: User, meaning: str, history_text: str) -> PlaceName:
    """An officer records a name's meaning and origin, and its history; every version is kept by
    simple_history with who changed it."""
    _officer_required(actor)
    placename.meaning = text_limited(meaning, "meaning", 4000)
    placename.history_text = text_limited(history_text, "history_text", 8000)
    placename._change_reason = "story edited by the place-name office"
    placename.save(update_fields=["meaning", "history_text"])
    logger.info("place name %s: meaning/history edited by %s", placename.pk, actor.get_username())
    return placename


def applications_divisions_replaced(*, replaced: dict[int, int], **_signal) -> None:
    """Receiver of ``boundaries.signals.divisions_replaced``: applications in a township merged into
    another now lie in that other."""
    for old_id, new_id in replaced.items():
        NamingApplication.objects.filter(township_id=old_id).update(township_id=new_id)


def applications_division_split(*, division: Division, new_division: Division, cut: GEOSGeometry, **_signal) -> None:
    """Receiver of ``boundaries.signals.division_split``: applications in the township split whose
    location lies in the part cut off now lie in the new unit."""
    NamingApplication.objects.filter(township=division, location__within=cut).update(township=new_division)
