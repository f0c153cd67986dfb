"""Reads of the place-name office: the automatic checks of a proposed name against the database (same
name or same toneless pinyin within the scope the rules set, protected heritage names, units
abolished in the last five years) on top of the pure checks of ``placenames.naming_rules``; the
public notices; signs that need work; heritage names. Geometries are EPSG:4326.

Rules implemented here (rule id: what is checked; source)

- ``scope.same_name``: a standard name of the compared classes in the scope is the same name.
- ``scope.same_pinyin``: a standard name there has the same toneless pinyin (a homophone: 解方碑街道
  for 解放碑街道).
- ``scope.same_specific``: a standard name there has the same 专名 with another 通名 (解放碑镇 next
  to 解放碑街道); not blocking.
  Scopes are data (``CheckScope``, defaults in migration 0002 with their sources): township and
  street names within a county (《地名管理条例实施细则》(1996) 第八条(五)), village names within a
  township (idem), road, street and residential-area names within a town or the urban area (idem;
  approximated here by the district/county, as the gazetteer has no town or urban-area polygons),
  county-level names across the municipality (《地名管理条例》(1986) 第四条(三) says nationwide; the
  gazetteer holds only Chongqing), important natural features within the province-level unit
  (实施细则 第八条(五)).
- ``name.heritage``: the proposed 专名 or name is a protected heritage name (``HeritageName``), or a
  renaming or cancellation touches a listed name. Not blocking: the officer weighs it.
- ``name.abolished_unit``: the name (or its 专名) is that of a division abolished within the last
  ``ABOLISHED_YEARS`` years, from ``boundaries.selectors.divisions_abolished_between``. Blocking.
"""

import datetime
import json
import logging

from django.db.models import Q, QuerySet

from boundaries.history_selectors import divisions_abolished_between
from boundaries.models import Division
from boundaries.names import name_from_committee, name_split
from gis_portal.core.errors import NotFound
from placenames.models import PlaceName
from placenames.naming_rules import NamingFinding, name_check
from placenames.office.models import CheckScope, HeritageName, NamingApplication, Sign
from placenames.text import pinyin_plain

logger = logging.getLogger(__name__)

ABOLISHED_YEARS = 5
OFFICE_RULE_SOURCES = {
    "name.heritage": (
        "《地名管理条例》(2022) 第四章 地名文化保护 (clause not confirmed here); the heritage list (HeritageName)"
    ),
    "name.abolished_unit": (
        f"project rule of issue 15: not the name of a unit abolished within {ABOLISHED_YEARS} years "
        "(the regulation's clause was not confirmed here); division history of boundaries"
    ),
}
SCOPE_RULE_MESSAGES = {
    "scope.same_name": ("same name", True),
    "scope.same_pinyin": ("same toneless pinyin (homophone)", True),
    "scope.same_specific": ("same 专名 with another 通名", False),
}


def finding_dict(finding: NamingFinding) -> dict:
    return {"rule": finding.rule, "message": finding.message, "source": finding.source, "blocking": finding.blocking}


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _scope_names(
    *, scope: CheckScope, district: Division | None, township: Division | None, exclude: int | None
) -> QuerySet[PlaceName]:
    names = PlaceName.objects.filter(
        feature_class__in=scope.feature_classes, status=PlaceName.Status.STANDARD, valid_to__isnull=True
    )
    if scope.area == CheckScope.Area.DISTRICT:
        names = names.filter(district=district)
    elif scope.area == CheckScope.Area.TOWNSHIP:
        names = names.filter(parent=township) if township is not None else names.none()
    if exclude is not None:
        names = names.exclude(pk=exclude)
    return names


def scope_findings(
    *,
    object_type: str,
    name: str,
    specific: str,
    district: Division | None,
    township: Division | None,
    exclude: int | None = None,
) -> list[dict]:
    """Same name, same toneless pinyin or same 专名 among the standard names of the scope."""
    scope = CheckScope.objects.filter(object_type=object_type).first()
    if scope is None:
        logger.warning("no check scope for object type %s: the scope checks are skipped", object_type)
        return []
    where = {
        CheckScope.Area.MUNICIPALITY: "the municipality",
        CheckScope.Area.DISTRICT: district.name if district else "?",
        CheckScope.Area.TOWNSHIP: township.name if township else "?",
    }[scope.area]
    plain = pinyin_plain(name)
    candidates = _scope_names(scope=scope, district=district, township=township, exclude=exclude).filter(
        Q(name=name) | Q(pinyin_plain=plain) | Q(specific=specific)
    )
    found: dict[str, list[dict]] = {rule: [] for rule in SCOPE_RULE_MESSAGES}
    for place in candidates.select_related("division")[:50]:
        rule = (
            "scope.same_name"
            if place.name == name
            else "scope.same_pinyin"
            if place.pinyin_plain == plain
            else "scope.same_specific"
        )
        found[rule].append({"id": place.pk, "name": place.name, "code": place.division.code if place.division else ""})
    findings = []
    for rule, places in found.items():
        if not places:
            continue
        what, blocking = SCOPE_RULE_MESSAGES[rule]
        listed = "、".join(p["name"] for p in places)
        findings.append(
            {
                "rule": rule,
                "message": f"{what} as {listed} within {where} ({scope.get_area_display()}).",
                "source": scope.source,
                "blocking": blocking,
                "conflicts": places,
            }
        )
    return findings


def heritage_findings(*, name: str, specific: str, placename: PlaceName | None) -> list[dict]:
    listed = HeritageName.objects.filter(Q(name=name) | Q(specific=specific) | Q(name=specific))
    if placename is not None:
        listed = listed | HeritageName.objects.filter(Q(placename=placename) | Q(name=placename.name))
    names = sorted({h.name for h in listed.distinct()})
    if not names:
        return []
    return [
        {
            "rule": "name.heritage",
            "message": f"Protected heritage name(s): {'、'.join(names)}; reusing or changing them needs care.",
            "source": OFFICE_RULE_SOURCES["name.heritage"],
            "blocking": False,
        }
    ]


def abolished_findings(*, name: str, specific: str, today: datetime.date) -> list[dict]:
    start = years_before(today, ABOLISHED_YEARS)
    hits = []
    for unit in divisions_abolished_between(start=start, end=today):
        unit_name = name_from_committee(unit["name"])
        unit_specific = name_split(unit_name)[0]
        if name in (unit_name, unit["name"]) or specific == unit_specific:
            hits.append(f"{unit_name} ({unit['code']}, abolished {unit['valid_to']})")
    if not hits:
        return []
    return [
        {
            "rule": "name.abolished_unit",
            "message": f"Name of a unit abolished since {start}: {'、'.join(hits)}.",
            "source": OFFICE_RULE_SOURCES["name.abolished_unit"],
            "blocking": True,
        }
    ]


def proposal_findings(
    *,
    kind: str,
    object_type: str,
    name: str,
    specific: str,
    generic: str,
    district: Division | None,
    township: Division | None,
    placename: PlaceName | None = None,
    today: datetime.date,
) -> list[dict]:
    """Every automatic finding on a proposal, each with its rule, message, source and whether it
    blocks approval. A cancellation is checked only for heritage."""
    if kind == NamingApplication.Kind.CANCEL:
        return heritage_findings(name=name, specific=specific, placename=placename)
    findings = [
        finding_dict(f) for f in name_check(name=name, specific=specific, generic=generic, object_type=object_type)
    ]
    exclude = placename.pk if placename is not None else None
    findings += scope_findings(
        object_type=object_type, name=name, specific=specific, district=district, township=township, exclude=exclude
    )
    findings += heritage_findings(name=name, specific=specific, placename=placename)
    findings += abolished_findings(name=name, specific=specific, today=today)
    return findings


def application_get(*, pk: int) -> NamingApplication:
    application = (
        NamingApplication.objects.select_related("district", "township", "placename").filter(pk=pk).first()
        if 0 < pk < 2**63
        else None
    )
    if application is None:
        raise NotFound(f"no naming application {pk}")
    return application


def application_public(*, pk: int) -> NamingApplication:
    """An application the public may read: one in or past its public notice."""
    application = application_get(pk=pk)
    if application.notice_start is None:  # never under notice: submitted, checked, or rejected before it
        raise NotFound(f"no naming application {pk} under public notice")
    return application


def notices_current(*, today: datetime.date) -> QuerySet[NamingApplication]:
    """Applications under public notice (公示) today or whose notice has ended awaiting decision,
    most recent first."""
    return (
        NamingApplication.objects.filter(status=NamingApplication.Status.NOTICE, notice_start__lte=today)
        .select_related("district", "township", "placename")
        .prefetch_related("comments")
        .order_by("-notice_start", "-id")
    )


def applications_for_officer(*, status: str | None = None) -> QuerySet[NamingApplication]:
    applications = NamingApplication.objects.select_related("district", "township", "placename").prefetch_related(
        "comments"
    )
    if status:
        applications = applications.filter(status=status)
    return applications.order_by("-submitted_at")


def application_dict(application: NamingApplication, *, internal: bool = False) -> dict:
    """An application as JSON; ``internal`` adds the submitter and the audit events."""
    data = {
        "id": application.pk,
        "kind": application.kind,
        "object_type": application.object_type,
        "name": application.name,
        "specific": application.specific,
        "generic": application.generic,
        "pinyin": application.pinyin,
        "placename_id": application.placename_id,
        "district": {"code": application.district.code, "name": application.district.name},
        "township": (
            {"code": application.township.code, "name": application.township.name} if application.township else None
        ),
        "location": _geojson(application.location),
        "reason": application.reason,
        "meaning": application.meaning,
        "origin": application.origin,
        "status": application.status,
        "findings": application.findings,
        "notice_start": application.notice_start,
        "notice_end": application.notice_end,
        "decision_reason": application.decision_reason,
        "effective_on": application.effective_on,
        "is_synthetic": application.is_synthetic,
        "comments": [
            {"author": c.author, "text": c.text, "at": c.at}
            for c in application.comments.all()  # in time order
        ],
    }
    if internal:
        data["submitter_name"] = application.submitter_name
        data["submitter_contact"] = application.submitter_contact
        data["events"] = [
            {
                "at": e.at,
                "actor": e.actor.get_username() if e.actor else None,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in application.events.select_related("actor")
        ]
    return data


def _geojson(geometry) -> dict:
    return json.loads(geometry.geojson)


def signs_needing_work(*, district: Division | None = None) -> QuerySet[Sign]:
    """Signs that are missing, damaged or whose text is wrong."""
    signs = Sign.objects.filter(
        Q(condition__in=[Sign.Condition.MISSING, Sign.Condition.DAMAGED]) | Q(is_wrong=True)
    ).select_related("placename", "district")
    if district is not None:
        signs = signs.filter(district=district)
    return signs


def sign_get(*, pk: int) -> Sign:
    sign = Sign.objects.select_related("placename", "district").filter(pk=pk).first() if 0 < pk < 2**63 else None
    if sign is None:
        raise NotFound(f"no sign {pk}")
    return sign


def sign_problems(sign: Sign) -> list[str]:
    problems = []
    if sign.condition != Sign.Condition.GOOD:
        problems.append(sign.condition)
    if sign.is_wrong:
        problems.append("wrong")
    return problems


def sign_feature(sign: Sign) -> dict:
    return {
        "type": "Feature",
        "id": sign.pk,
        "geometry": _geojson(sign.point),
        "properties": {
            "id": sign.pk,
            "sign_type": sign.sign_type,
            "standard_name": sign.placename.name,
            "placename_id": sign.placename_id,
            "district": sign.district.name,
            "text_chinese": sign.text_chinese,
            "text_pinyin": sign.text_pinyin,
            "installed_on": sign.installed_on,
            "condition": sign.condition,
            "last_checked": sign.last_checked,
            "is_wrong": sign.is_wrong,
            "problems": sign_problems(sign),
            "findings": sign.findings,
            "is_synthetic": sign.is_synthetic,
        },
    }


def heritage_list() -> QuerySet[HeritageName]:
    return HeritageName.objects.select_related("district", "placename").prefetch_related("photos")


def heritage_feature(heritage: HeritageName) -> dict:
    return {
        "type": "Feature",
        "id": heritage.pk,
        "geometry": _geojson(heritage.point),
        "properties": {
            "id": heritage.pk,
            "name": heritage.name,
            "category": heritage.category,
            "level": heritage.level,
            "district": heritage.district.name,
            "placename_id": heritage.placename_id,
            "story": heritage.story,
            "sources": heritage.sources,
            "photos": [{"url": p.image.url, "caption": p.caption, "credit": p.credit} for p in heritage.photos.all()],
            "is_synthetic": heritage.is_synthetic,
        },
    }
