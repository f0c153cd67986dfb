"""Writes of the gazetteer: filling it from the divisions, renaming a place (the old name is kept
as a former name with its dates). Every write goes through django-simple-history (who and when)."""

import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from simple_history.utils import bulk_create_with_history

from boundaries.models import Division
from boundaries.names import name_from_committee, name_split
from gis_portal.core.errors import InvalidParameter
from placenames.models import PlaceName, PlaceNameVariant
from placenames.text import (
    name_pinyin,
    pinyin_initials,
    pinyin_plain,
    traditional,
)

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


def _district_of(division: Division, by_id: dict[int, Division]) -> Division | None:
    node = division
    while node is not None and node.level not in (Division.Level.DISTRICT, Division.Level.MUNICIPALITY):
        node = by_id.get(node.parent_id)
    return node if node is not None and node.level == Division.Level.DISTRICT else None


def gazetteer_is_built() -> bool:
    return not Division.objects.filter(placename__isnull=True).exists()


@transaction.atomic
def gazetteer_build() -> GazetteerReport:
    """A standard name for every division that has none yet (idempotent): committee suffix dropped,
    专名/通名 split, pinyin, traditional-character variant; point = the division's point (EPSG:4326).
    Then a few deterministic synthetic renames of streets, so that former names can be searched."""
    divisions = list(Division.objects.only("id", "code", "name", "level", "parent_id", "cluster_id", "point"))
    by_id = {d.id: d for d in divisions}
    named = set(PlaceName.objects.filter(division__isnull=False).values_list("division_id", flat=True))
    new = []
    for division in divisions:
        if division.id in named:
            continue
        district = _district_of(division, by_id)
        name = name_from_committee(division.name)
        new.append(
            PlaceName(
                **placename_fields(name=name),
                feature_class=division.level,
                rank=PlaceName.RANK[division.level],
                division=division,
                parent_id=division.parent_id,
                district=district,
                cluster_id=division.cluster_id,
                point=division.point,
                status=PlaceName.Status.STANDARD,
                history_text=DIVISION_SOURCE if name == division.name else f"{DIVISION_SOURCE}（{division.name}）",
            )
        )
    created = bulk_create_with_history(new, PlaceName, batch_size=2000, default_change_reason="gazetteer_build")
    traditional_kind = PlaceNameVariant.Kind.TRADITIONAL
    variants = [
        PlaceNameVariant(placename=p, kind=traditional_kind, name=traditional(p.name), language="zh-Hant")
        for p in created
        if traditional(p.name) != p.name
    ]
    bulk_create_with_history(variants, PlaceNameVariant, batch_size=2000, default_change_reason="gazetteer_build")
    former = 0
    if not PlaceNameVariant.objects.filter(kind=PlaceNameVariant.Kind.FORMER, is_synthetic=True).exists():
        former = _synthetic_renames()
    with connection.cursor() as cursor:  # fresh statistics, so that search plans use the indexes
        cursor.execute("ANALYZE placenames_placename; ANALYZE placenames_placenamevariant")
    return GazetteerReport(created=len(created), variants=len(variants), former_names=former)


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
        PlaceNameVariant.objects.create(
            placename=placename,
            kind=PlaceNameVariant.Kind.FORMER,
            name=old,
            pinyin=name_pinyin(specific=specific, generic="街道"),
            pinyin_plain=pinyin_plain(old),
            valid_from=since,
            valid_to=renamed - datetime.timedelta(days=1),
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


@transaction.atomic
def placename_rename(
    *, placename: PlaceName, new_name: str, on: datetime.date, approval_ref: str = "", note: str = ""
) -> PlaceName:
    """Rename a place on date ``on``: the old name becomes a former-name variant valid until the day
    before, the new name is valid from ``on``. Nothing is lost; simple_history records who and when."""
    new_name = new_name.strip()
    if not new_name or len(new_name) > 64:
        raise InvalidParameter("new_name: 1 to 64 characters")
    if new_name == placename.name:
        raise InvalidParameter("new_name: the place already has this name")
    if placename.valid_from and on <= placename.valid_from:
        raise InvalidParameter(f"on: must be after the current name's start ({placename.valid_from})")
    PlaceNameVariant.objects.create(
        placename=placename,
        kind=PlaceNameVariant.Kind.FORMER,
        name=placename.name,
        pinyin=placename.pinyin,
        pinyin_plain=placename.pinyin_plain,
        valid_from=placename.valid_from,
        valid_to=on - datetime.timedelta(days=1),
        note=note,
    )
    for field, value in placename_fields(name=new_name).items():
        setattr(placename, field, value)
    placename.valid_from = on
    placename.approval_date = on
    placename.approval_ref = approval_ref
    placename.history_text = (placename.history_text + f"\n{on.isoformat()}: → {new_name} {approval_ref}").strip()
    placename.save()
    PlaceNameVariant.objects.filter(placename=placename, kind=PlaceNameVariant.Kind.TRADITIONAL).delete()
    if traditional(new_name) != new_name:
        PlaceNameVariant.objects.create(
            placename=placename, kind=PlaceNameVariant.Kind.TRADITIONAL, name=traditional(new_name), language="zh-Hant"
        )
    return placename
