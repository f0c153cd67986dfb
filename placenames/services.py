"""Writes of the gazetteer: filling it from the divisions (with a few synthetic former names),
renaming a place (the old name is kept as a former name with its dates), and the spellings derived
from a name. Every write goes through django-simple-history (who and when)."""

import datetime
import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Left
from simple_history.utils import bulk_create_with_history

from boundaries.models import Division
from boundaries.names import name_from_committee, name_split
from gis_portal.core import sql
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.region import CODE_DIGITS
from placenames.models import PlaceName, PlaceNameVariant
from placenames.text import name_pinyin, pinyin_initials, pinyin_plain, traditional

logger = logging.getLogger(__name__)

DIVISION_SOURCE = "名称取自统计用区划代码和城乡划分代码（村、社区去除委员会后缀）。"
# Names of the Cultural Revolution and commune era, the typical former names of city streets.
FORMER_SPECIFICS = ["红旗", "东风", "向阳", "胜利", "前进", "红星", "卫东", "立新", "反修", "跃进"]
SYNTHETIC_RENAMES = 8


@dataclass
class GazetteerReport:
    created: int
    variants: int
    former_names: int

    def __str__(self) -> str:
        return (
            f"gazetteer: {self.created} standard names created, {self.variants} variants, "
            f"{self.former_names} synthetic former names"
        )


def placename_fields(*, name: str) -> dict:
    """The derived text fields of a standard name: 专名/通名, pinyin spellings, search keys."""
    specific, generic = name_split(name)
    return {
        "name": name,
        "specific": specific,
        "generic": generic,
        "pinyin": name_pinyin(specific=specific, generic=generic),
        "pinyin_tone": name_pinyin(specific=specific, generic=generic, tone=True),
        "pinyin_plain": pinyin_plain(name),
        "initials": pinyin_initials(name),
    }


def placename_name_set(*, placename: PlaceName, name: str) -> None:
    """Give ``placename`` the name ``name`` with every spelling derived from it (not saved)."""
    for field, value in placename_fields(name=name).items():
        setattr(placename, field, value)


def _traditional_variant(placename: PlaceName) -> PlaceNameVariant | None:
    """The traditional-character form of a name, if it differs (not saved)."""
    text = traditional(placename.name)
    if text == placename.name:
        return None
    return PlaceNameVariant(placename=placename, kind=PlaceNameVariant.Kind.TRADITIONAL, name=text, language="zh-Hant")


def _former_name_create(*, placename: PlaceName, renamed: datetime.date, **fields) -> PlaceNameVariant:
    """Keep a name of ``placename`` as a former name, valid until the day before ``renamed``;
    ``fields`` are the variant's name, spellings, start, note."""
    return PlaceNameVariant.objects.create(
        placename=placename,
        kind=PlaceNameVariant.Kind.FORMER,
        valid_to=renamed - datetime.timedelta(days=1),
        **fields,
    )


def _divisions_with_district() -> list[Division]:
    """Every division in code order, with ``district_pk``: the id of its district or county by the
    code-prefix rule of ``boundaries.selectors.division_district`` (a district is its own; the
    municipality has none, as no district bears its code), in one query."""
    district = Division.objects.filter(
        level=Division.Level.DISTRICT, code=Left(OuterRef("code"), CODE_DIGITS["district"])
    )
    return list(
        Division.objects.only("id", "code", "name", "level", "parent_id", "cluster_id", "point").annotate(
            district_pk=Subquery(district.values("id")[:1])
        )
    )


def gazetteer_is_built() -> bool:
    return not Division.objects.filter(placename__isnull=True).exists()


@transaction.atomic
def gazetteer_build() -> GazetteerReport:
    """A standard name for every division that has none yet (idempotent): committee suffix dropped,
    专名/通名 split, pinyin, traditional-character variant; point = the division's point (EPSG:4326).
    Then a few deterministic synthetic renames of streets, so that former names can be searched."""
    named = set(PlaceName.objects.filter(division__isnull=False).values_list("division_id", flat=True))
    new = []
    for division in _divisions_with_district():
        if division.id in named:
            continue
        name = name_from_committee(division.name)
        new.append(
            PlaceName(
                **placename_fields(name=name),
                feature_class=division.level,
                rank=PlaceName.RANK[division.level],
                division=division,
                parent_id=division.parent_id,
                district_id=division.district_pk,
                cluster_id=division.cluster_id,
                point=division.point,
                status=PlaceName.Status.STANDARD,
                history_text=DIVISION_SOURCE if name == division.name else f"{DIVISION_SOURCE}（{division.name}）",
            )
        )
    created = bulk_create_with_history(new, PlaceName, batch_size=2000, default_change_reason="gazetteer_build")
    variants = [variant for placename in created if (variant := _traditional_variant(placename))]
    bulk_create_with_history(variants, PlaceNameVariant, batch_size=2000, default_change_reason="gazetteer_build")
    former = 0
    if not PlaceNameVariant.objects.filter(kind=PlaceNameVariant.Kind.FORMER, is_synthetic=True).exists():
        former = _synthetic_renames()
    # Fresh statistics, so that search plans use the indexes.
    sql.execute(sql.compose("ANALYZE {placename}; ANALYZE {variant}", placename=PlaceName, variant=PlaceNameVariant))
    report = GazetteerReport(created=len(created), variants=len(variants), former_names=former)
    logger.info("%s", report)
    return report


def _synthetic_renames() -> int:
    """A few streets (街道) get a generated former name, e.g. 红旗街道 1968-1981, seeded by
    ``SYNTHETIC_SEED``: the current name becomes valid from the rename date."""
    rng = random.Random(settings.SYNTHETIC_SEED)
    streets = list(PlaceName.objects.filter(generic="街道", division__isnull=False).order_by("division__code"))
    if not streets:
        return 0
    chosen = rng.sample(streets, min(SYNTHETIC_RENAMES, len(streets)))
    specifics = rng.sample(FORMER_SPECIFICS, len(chosen))
    for placename, specific in zip(chosen, specifics, strict=True):
        old = f"{specific}街道"
        since = datetime.date(rng.randint(1966, 1970), rng.randint(1, 12), 1)
        renamed = datetime.date(rng.randint(1980, 1985), rng.randint(1, 12), 1)
        _former_name_create(
            placename=placename,
            name=old,
            pinyin=name_pinyin(specific=specific, generic="街道"),
            pinyin_plain=pinyin_plain(old),
            valid_from=since,
            renamed=renamed,
            note="synthetic former name (generated for the demo)",
            is_synthetic=True,
        )
        placename.valid_from = renamed
        placename.is_synthetic = True
        placename.history_text += (
            f"\n{since.year}年称{old}，{renamed.year}年{renamed.month}月更名为{placename.name}（示意数据）。"
        )
        placename.save(update_fields=["valid_from", "is_synthetic", "history_text"])
    return len(chosen)


def _rename_refusal(*, placename: PlaceName, new_name: str, on: datetime.date) -> str | None:
    """Why ``placename`` cannot be renamed to ``new_name`` on ``on``, or None if it can."""
    if not new_name or len(new_name) > PlaceName._meta.get_field("name").max_length:
        return "new_name: 1 to 64 characters"
    if new_name == placename.name:
        return "new_name: the place already has this name"
    if placename.valid_from and on <= placename.valid_from:
        return f"on: must be after the current name's start ({placename.valid_from})"
    return None


@transaction.atomic
def placename_rename(
    *, placename: PlaceName, new_name: str, on: datetime.date, approval_ref: str = "", note: str = ""
) -> PlaceName:
    """Rename a place on date ``on``: the old name becomes a former-name variant valid until the day
    before, the new name is valid from ``on``. Nothing is lost; simple_history records who and when."""
    new_name = new_name.strip()
    refusal = _rename_refusal(placename=placename, new_name=new_name, on=on)
    if refusal:
        logger.info("rename of place name %s (%s) refused: %s", placename.pk, placename.name, refusal)
        raise InvalidParameter(refusal)
    old_name = placename.name
    _former_name_create(
        placename=placename,
        name=placename.name,
        pinyin=placename.pinyin,
        pinyin_plain=placename.pinyin_plain,
        valid_from=placename.valid_from,
        renamed=on,
        note=note,
    )
    placename_name_set(placename=placename, name=new_name)
    placename.valid_from = on
    placename.approval_date = on
    placename.approval_ref = approval_ref
    placename.history_text = (placename.history_text + f"\n{on.isoformat()}: → {new_name} {approval_ref}").strip()
    placename.save()
    PlaceNameVariant.objects.filter(placename=placename, kind=PlaceNameVariant.Kind.TRADITIONAL).delete()
    variant = _traditional_variant(placename)
    if variant is not None:
        variant.save()
    logger.info("place name %s renamed %s → %s on %s (%s)", placename.pk, old_name, new_name, on, approval_ref or "-")
    return placename
