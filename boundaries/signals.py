"""Signals the boundaries send to the apps above them (which boundaries must not import): data
derived from the divisions elsewhere (e.g. the facilities' nearest-facility table) is rebuilt on
``divisions_changed``, sent inside the writing transaction after an import or a generation.

The impact of a division change proposal is completed with ``division_change_impact``, sent by
``boundaries.proposal_services.proposal_impact`` with ``district_id``, ``before`` (the townships as
they are) and ``after`` (as the change would leave them: one unit after a merger, the kept unit and
then the new one after a split, the source and then the target after villages moved), each unit a
dict of ``id`` (None for a unit not made yet), ``code``, ``name``, ``kind`` and ``geom``
(MultiPolygon, EPSG:4326). Each receiver returns a dict added to the
impact (the facilities answer ``facilities``: counts and coverage before and after) and leaves
nothing written. The villages and records of the ``before`` units lie in the first ``after`` unit
unless a later one contains their point, as applying the change puts them.

An applied division change proposal sends, inside its transaction:
- ``divisions_replaced`` (``replaced``: old division id → the id of the unit taking it over, ``on``:
  the effective date, ``source``) before the old rows are deleted, so that records referring to
  them (place names, facilities, naming applications) move to the new unit;
- ``division_renamed`` (``division``, ``old_name``, ``on``, ``source``) after a unit's name changed;
- ``division_split`` (``division``: the unit cut, which keeps its row, code and seat;
  ``new_division``: the unit that receives the part cut off, a new one (a split) or an existing
  neighbour (villages moved to another township); ``cut``: that part, a MultiPolygon in EPSG:4326;
  ``on``, ``source``) after both polygons, their pieces and the villages changed, so that records
  referring to ``division`` that lie in ``cut`` move to ``new_division`` (by location: a point on
  the cutting line stays with ``division``, as the villages do);
- ``boundary_lines_replaced`` (``replaced``: old line id → the id of the line taking it over, or
  None for a line retired with no successor) before the old lines are retired (they stay, dated),
  so that records referring to them (survey uploads) move, or the change is refused if they cannot."""

from django.dispatch import Signal

divisions_changed = Signal()
division_change_impact = Signal()
divisions_replaced = Signal()
division_renamed = Signal()
division_split = Signal()
boundary_lines_replaced = Signal()
