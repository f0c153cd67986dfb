"""The place names follow an applied division change (``boundaries.signals``; the boundaries
cannot call the place names): when units merge, the names inside them move to the new unit and the
old units' own names are retired on the day (kept, with their dates); when a unit is renamed, its
name is renamed on the day (the old one becomes a former name); when a unit is split, the names
that lie in the part cut off move under the new unit (a division's name under its division's new
parent, any other by its point). The new unit of a merger or a split gets no standard name here:
naming it is the place-name office's decision (an application)."""

import datetime

from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.db.models import OuterRef, Subquery

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


@transaction.atomic
def placenames_division_split(*, division: Division, new_division: Division, cut: GEOSGeometry, **_signal) -> None:
    """Receiver of ``division_split``: the names under ``division`` that lie in the part cut off go
    under ``new_division``: the names of divisions (villages) follow their division's parent, which
    the split already set; the others move when the cut-off part contains their point."""
    under = PlaceName.objects.filter(parent=division)
    under.filter(division__isnull=False).update(
        parent_id=Subquery(Division.objects.filter(pk=OuterRef("division_id")).values("parent_id")[:1])
    )
    under.filter(division__isnull=True, point__within=cut).update(parent=new_division)
