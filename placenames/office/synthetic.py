"""The office's starting data: a short list of heritage names (real names; their listing as stated
in ``sources``), and generated demo signs flagged ``is_synthetic`` (seed ``SYNTHETIC_SEED``), some of
them wrong in the ways ``placenames.sign_rules`` finds, some damaged or missing."""

import datetime
import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from boundaries.models import Division
from gis_portal.core.crs import WGS84
from placenames.models import PlaceName
from placenames.office.models import HeritageName, Sign
from placenames.office.signs import sign_text_apply
from placenames.sign_rules import sign_pinyin_expected
from placenames.text import name_pinyin, traditional

logger = logging.getLogger(__name__)

TOWNS_2003 = "中国历史文化名镇 第一批 (建设部、国家文物局, 2003)"
TOWNS_2005 = "中国历史文化名镇 第二批 (建设部、国家文物局, 2005)"
DISTRICTS_CQ = "重庆市历史文化街区"
UNCHECKED = "; list membership recalled, not re-checked against the published list here"
# name, district code, category, level, story, source, (lon, lat) used when the gazetteer has no point
HERITAGE = [
    (
        "涞滩镇",
        "500117",
        "old_town",
        "national",
        "渠江西岸的古镇，以瓮城和二佛寺摩崖造像著称。",
        TOWNS_2003,
        (106.25, 30.06),
    ),
    (
        "西沱镇",
        "500240",
        "old_town",
        "national",
        "长江南岸的古镇，云梯街自江边沿山脊而上。",
        TOWNS_2003,
        (108.20, 30.43),
    ),
    ("双江镇", "500152", "old_town", "national", "涪江支流畔的古镇，保存清代院落与街巷。", TOWNS_2003, (105.75, 30.20)),
    (
        "龙兴镇",
        "500112",
        "old_town",
        "national",
        "渝北东部的古场镇，保存明清街巷、祠堂与会馆。",
        TOWNS_2005,
        (106.80, 29.70),
    ),
    ("中山镇", "500116", "old_town", "national", "笋溪河畔的古镇，老街沿河而建。", TOWNS_2005, (106.10, 28.90)),
    (
        "龚滩镇",
        "500242",
        "old_town",
        "national",
        "乌江与阿蓬江交汇处的古镇，以吊脚楼和石板街闻名。",
        TOWNS_2005,
        (108.35, 28.93),
    ),
    (
        "磁器口",
        "500106",
        "old_street",
        "municipal",
        "嘉陵江畔的古街区，旧以瓷器集散得名。",
        DISTRICTS_CQ,
        (106.449, 29.579),
    ),
    ("十八梯", "500103", "old_street", "municipal", "连接上下半城的石梯老街。", DISTRICTS_CQ, (106.5745, 29.553)),
]
SIGN_DISTRICTS = ["500103", "500106", "500114", "500242"]  # 渝中 沙坪坝 黔江 酉阳
SIGNS_PER_DISTRICT = 30
# Shares of generated signs: wrong text (one of five kinds of error), damaged, missing.
WRONG_SHARE, DAMAGED_SHARE, MISSING_SHARE = 0.2, 0.08, 0.05
ERRORS = ("traditional", "character", "letters", "separation", "tones")


@dataclass
class OfficeDataReport:
    heritage: int
    signs: int
    wrong: int

    def __str__(self) -> str:
        return f"office: {self.heritage} heritage names, {self.signs} synthetic signs ({self.wrong} with wrong text)"


def office_data_generated() -> bool:
    return Sign.objects.filter(is_synthetic=True).exists()


def _specific(name: str) -> str:
    for generic in ("镇", "乡", "街道"):
        if name.endswith(generic):
            return name[: -len(generic)]
    return name


def heritage_seed() -> int:
    created = 0
    for name, code, category, level, story, source, (lon, lat) in HERITAGE:
        district = Division.objects.filter(code=code, level=Division.Level.DISTRICT).first()
        if district is None:
            continue
        placename = PlaceName.objects.filter(district=district, name=name).first()
        point = placename.point if placename is not None and placename.point else Point(lon, lat, srid=WGS84)
        _, new = HeritageName.objects.get_or_create(
            district=district,
            name=name,
            defaults={
                "specific": _specific(name),
                "placename": placename,
                "point": point,
                "category": category,
                "level": level,
                "story": story,
                "sources": source + UNCHECKED,
                "is_synthetic": placename is None,  # a location not from the gazetteer is approximate
            },
        )
        created += new
    return created


def _wrong_text(kind: str, place: PlaceName, pinyin: str, rng: random.Random) -> tuple[str, str]:
    if kind == "traditional" and traditional(place.name) != place.name:
        return traditional(place.name), pinyin
    if kind in ("traditional", "character"):
        i = rng.randrange(len(place.specific)) if place.specific else 0
        wrong = "口" if place.name[i] != "口" else "日"
        return place.name[:i] + wrong + place.name[i + 1 :], pinyin
    if kind == "letters":
        return place.name, pinyin.replace("a", "o", 1) if "a" in pinyin else pinyin + "g"
    if kind == "separation" and " " in pinyin:
        return place.name, pinyin.replace(" ", "")
    tone = name_pinyin(specific=place.specific, generic="", tone=True)
    return place.name, " ".join(w for w in (tone, pinyin.split(" ", 1)[-1] if " " in pinyin else "") if w)


@transaction.atomic
def office_data_generate(*, seed: int | None = None) -> OfficeDataReport:
    """Heritage names (idempotent) and, unless present, demo signs for the villages, communities and
    townships of a few districts, about a fifth of them with wrong text."""
    heritage = heritage_seed()
    if office_data_generated():
        return OfficeDataReport(heritage=heritage, signs=0, wrong=0)
    rng = random.Random(settings.SYNTHETIC_SEED if seed is None else seed)
    signs = []
    for code in SIGN_DISTRICTS:
        places = list(
            PlaceName.objects.filter(
                district__code=code,
                feature_class__in=[PlaceName.FeatureClass.VILLAGE, PlaceName.FeatureClass.TOWNSHIP],
                point__isnull=False,
                status=PlaceName.Status.STANDARD,
            ).order_by("division__code")
        )
        for place in rng.sample(places, min(SIGNS_PER_DISTRICT, len(places))):
            pinyin = sign_pinyin_expected(specific=place.specific, generic=place.generic)
            chinese = place.name
            roll = rng.random()
            if roll < WRONG_SHARE:
                chinese, pinyin = _wrong_text(rng.choice(ERRORS), place, pinyin, rng)
            elif roll < WRONG_SHARE + 0.1:
                pinyin = pinyin.upper()  # all capitals: allowed
            sign_type = (
                Sign.Type.OTHER
                if place.feature_class == PlaceName.FeatureClass.TOWNSHIP
                else Sign.Type.COMMUNITY
                if place.generic == "社区"
                else Sign.Type.VILLAGE
            )
            condition_roll = rng.random()
            condition = (
                Sign.Condition.MISSING
                if condition_roll < MISSING_SHARE
                else Sign.Condition.DAMAGED
                if condition_roll < MISSING_SHARE + DAMAGED_SHARE
                else Sign.Condition.GOOD
            )
            # Within about 150 m of the place's point (0.0015° of latitude ≈ 167 m).
            point = Point(
                place.point.x + rng.uniform(-0.0015, 0.0015), place.point.y + rng.uniform(-0.0015, 0.0015), srid=WGS84
            )
            installed = datetime.date(rng.randint(2012, 2022), rng.randint(1, 12), rng.randint(1, 28))
            sign = Sign(
                sign_type=sign_type,
                placename=place,
                district_id=place.district_id,
                point=point,
                text_chinese=chinese,
                text_pinyin=pinyin,
                installed_on=installed,
                condition=condition,
                last_checked=installed + datetime.timedelta(days=rng.randint(30, 900)),
                is_synthetic=True,
            )
            signs.append(sign_text_apply(sign))
    bulk_create_with_history(signs, Sign, batch_size=1000, default_change_reason="office_data_generate")
    report = OfficeDataReport(heritage=heritage, signs=len(signs), wrong=sum(s.is_wrong for s in signs))
    logger.info("%s", report)
    return report
