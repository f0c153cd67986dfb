"""Former names of divisions from the division history (区划调整): a town that became a street keeps
its old name as a former-name variant of the street, with its dates, so that searching 新盛镇 finds
新盛街道 with the match marked former; a township merged into another leaves its name on the one it
went into. The current name's start is set where it began after the first list. Kept apart from
the gazetteer's own services: it only reads ``boundaries.history_selectors.division_name_history``."""

import datetime
import logging

from django.db import transaction
from simple_history.utils import bulk_update_with_history

from boundaries.history_selectors import division_name_history
from boundaries.names import name_split
from placenames.models import PlaceName, PlaceNameVariant
from placenames.text import name_pinyin, pinyin_plain

logger = logging.getLogger(__name__)

# The note that marks the variants this module writes (and replaces when run again).
HISTORY_NOTE = "据统计用区划代码历年名单推定"


def former_division_names_loaded() -> bool:
    return PlaceNameVariant.objects.filter(note__startswith=HISTORY_NOTE).exists()


def _note(former: dict) -> str:
    if former["valid_to_after"] is not None:
        when = f"{former['valid_to_after']}至{former['valid_to']}之间"
    else:
        when = f"{former['valid_to']}"
    how = "并入" if former["type"] == "merged_into" else "更名/调整"
    return f"{HISTORY_NOTE}：{former['code']} {former['name']}，{when}{how}"


@transaction.atomic
def former_division_names_apply() -> dict:
    """Write the former names of the divisions as variants of their current place names (replacing
    those written before) and the start of current names that began after the first list. Returns
    counts. Idempotent."""
    formers, begun = division_name_history()
    PlaceNameVariant.objects.filter(note__startswith=HISTORY_NOTE).delete()
    placenames = {p.division_id: p for p in PlaceName.objects.filter(division__isnull=False)}
    variants, seen = [], set()
    for former in formers:
        placename = placenames.get(former["division_id"])
        if placename is None or (placename.id, former["name"]) in seen or former["name"] == placename.name:
            continue
        seen.add((placename.id, former["name"]))
        specific, generic = name_split(former["name"])
        variants.append(
            PlaceNameVariant(
                placename=placename,
                kind=PlaceNameVariant.Kind.FORMER,
                name=former["name"],
                pinyin=name_pinyin(specific=specific, generic=generic),
                pinyin_plain=pinyin_plain(former["name"]),
                valid_from=former["valid_from"],
                # Variants' valid_to is the last day in use (inclusive).
                valid_to=former["valid_to"] - datetime.timedelta(days=1),
                note=_note(former),
            )
        )
    PlaceNameVariant.objects.bulk_create(variants)
    changed = []
    for division_id, start in begun.items():
        placename = placenames.get(division_id)
        if placename is not None and (placename.valid_from is None or placename.valid_from < start):
            placename.valid_from = start
            changed.append(placename)
    bulk_update_with_history(changed, PlaceName, ["valid_from"], batch_size=1000)
    logger.info("former division names: %d variants, %d names with a later start", len(variants), len(changed))
    return {"former_names": len(variants), "names_begun": len(changed)}
