"""Writes of the sign registry (地名标志): a sign's text checked against its standard name with
``placenames.sign_rules``, and a survey team's check of a sign (condition, text read, a photo
validated with Pillow and kept under MEDIA_ROOT), which updates the sign and checks its text again."""

import datetime
import logging
import uuid

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from boundaries.models import SurveyTeam
from boundaries.names import name_split
from gis_portal.core.errors import Forbidden, InvalidParameter, PayloadTooLarge, UnsupportedMediaType
from gis_portal.core.roles import SURVEYOR, user_has_role
from placenames.models import PlaceName
from placenames.office.models import Sign, SignCheck
from placenames.office.services import User, office_today, text_limited
from placenames.sign_rules import sign_text_check

logger = logging.getLogger(__name__)

PHOTO_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
PHOTO_MAX_PIXELS = 40_000_000


def sign_findings(*, placename: PlaceName, text_chinese: str, text_pinyin: str) -> list[dict]:
    """The findings of ``placenames.sign_rules`` on a sign's text, as JSON."""
    try:
        findings = sign_text_check(
            standard_name=placename.name,
            specific=placename.specific,
            generic=placename.generic,
            sign_chinese=text_chinese,
            sign_pinyin=text_pinyin,
        )
    except ValueError:
        specific, generic = name_split(placename.name)
        findings = sign_text_check(
            standard_name=placename.name,
            specific=specific,
            generic=generic,
            sign_chinese=text_chinese,
            sign_pinyin=text_pinyin,
        )
    return [
        {"rule": f.rule, "message": f.message, "expected": f.expected, "found": f.found, "source": f.source}
        for f in findings
    ]


def sign_text_apply(sign: Sign) -> Sign:
    """Re-check a sign's text against its standard name (not saved)."""
    sign.findings = sign_findings(
        placename=sign.placename, text_chinese=sign.text_chinese, text_pinyin=sign.text_pinyin
    )
    sign.is_wrong = bool(sign.findings)
    return sign


def photo_validate(photo: UploadedFile) -> tuple[str, int, int]:
    """The photo's format and size in pixels; UnsupportedMediaType unless Pillow reads it as a JPEG,
    PNG or WebP image, PayloadTooLarge over ``PLACENAME_PHOTO_MAX_BYTES`` or ``PHOTO_MAX_PIXELS``."""
    limit = settings.PLACENAME_PHOTO_MAX_BYTES
    if photo.size > limit:
        raise PayloadTooLarge(f"photo: {photo.size} bytes; at most {limit}")
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            image_format, (width, height) = image.format, image.size
            if width * height > PHOTO_MAX_PIXELS:
                raise PayloadTooLarge(f"photo: {width}×{height} pixels; at most {PHOTO_MAX_PIXELS}")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedMediaType("photo: not an image Pillow can read (JPEG, PNG or WebP)") from exc
    if image_format not in PHOTO_EXTENSIONS:
        raise UnsupportedMediaType(f"photo: {image_format}; a JPEG, PNG or WebP image")
    photo.seek(0)
    return image_format, width, height


@transaction.atomic
def sign_check_report(
    *,
    sign: Sign,
    user: User,
    condition: str,
    photo: UploadedFile | None,
    checked_on: datetime.date | None = None,
    text_chinese: str = "",
    text_pinyin: str = "",
    note: str = "",
) -> SignCheck:
    """A survey team member's check of a sign, with a photo: the check is kept, the sign's condition,
    last check and (if read) text are updated and its text checked again. Nothing is written when
    the photo or a field is refused."""
    if not user_has_role(user, SURVEYOR):
        raise Forbidden("only members of a survey team report sign checks")
    team = SurveyTeam.objects.filter(members=user).order_by("name").first()
    if team is None:
        raise Forbidden("you are not a member of a survey team")
    if condition not in Sign.Condition.values:
        raise InvalidParameter(f"condition: one of {', '.join(Sign.Condition.values)}")
    on = checked_on or office_today()
    if on > office_today():
        raise InvalidParameter("checked_on: not in the future")
    if photo is None:
        raise InvalidParameter("photo: a photo of the sign is required")
    image_format, width, height = photo_validate(photo)
    photo.name = f"{uuid.uuid4().hex}.{PHOTO_EXTENSIONS[image_format]}"  # not the sender's file name
    text_chinese = text_limited(text_chinese, "text_chinese", 64)
    text_pinyin = text_limited(text_pinyin, "text_pinyin", 160)
    check = SignCheck(
        sign=sign,
        team=team,
        checked_by=user,
        checked_on=on,
        condition=condition,
        text_chinese=text_chinese,
        text_pinyin=text_pinyin,
        note=text_limited(note, "note"),
        photo=photo,
        photo_format=image_format,
        photo_width=width,
        photo_height=height,
    )
    try:  # the photo is written by the first save: a refusal after it must not leave the file behind
        check.save()
        sign.condition, sign.last_checked = condition, max(on, sign.last_checked or on)
        if text_chinese:
            sign.text_chinese = text_chinese
        if text_pinyin:
            sign.text_pinyin = text_pinyin
        sign_text_apply(sign)
        sign.save()
    except BaseException:
        check.photo.delete(save=False)
        raise
    logger.info("sign %s checked by %s (%s): %s", sign.pk, user.get_username(), team.name, condition)
    return check
