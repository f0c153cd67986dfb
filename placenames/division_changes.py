"""The place names follow an applied division change (``boundaries.signals``; the boundaries
cannot call the place names): when units merge, the names inside them move to the new unit and the
old units' own names are retired on the day (kept, with their dates); when a unit is renamed, its
name is renamed on the day (the old one becomes a former name). The new unit of a merger gets no
standard name here: naming it is the place-name office's decision (an application)."""

import datetime

from django.db import transaction

from boundaries.models import Division
from placenames.models import PlaceName
from placenames.services import placename_rename


@transaction.atomic
def placenames_divisions_replaced(*, replaced: dict[int, int], on: datetime.date, source: str, **_signal) -> None:
    """Receiver of ``divisions_replaced``: references to the old units go to their successors."""
    for old_id, new_id in replaced.items():
        PlaceName.objects.filter(parent_id=old_id).update(parent_id=new_id)
        PlaceName.objects.filter(district_id=old_id).update(district_id=new_id)
        for placename in PlaceName.objects.filter(division_id=old_id):
            placename.division = None
            placename.status = PlaceName.Status.RETIRED
            placename.valid_to = on
            placename.history_text = (placename.history_text + f"\n{on.isoformat()}: 撤销（{source}）").strip()
            placename._change_reason = source[:100]
            placename.save()


@transaction.atomic
def placename_division_renamed(*, division: Division, old_name: str, on: datetime.date, source: str, **_signal) -> None:
    """Receiver of ``division_renamed``: the unit's standard name is renamed on the day."""
    placename = PlaceName.objects.filter(division=division).first()
    if placename is not None and placename.name != division.name:
        placename_rename(placename=placename, new_name=division.name, on=on, approval_ref=source[:128])
