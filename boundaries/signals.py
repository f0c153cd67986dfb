"""Signals the boundaries send to the apps above them (which boundaries must not import): data
derived from the divisions elsewhere (e.g. the facilities' nearest-facility table) is rebuilt on
``divisions_changed``, sent inside the writing transaction after an import or a generation.

An applied division change proposal sends, inside its transaction:
- ``divisions_replaced`` (``replaced``: old division id → the id of the unit taking it over, ``on``:
  the effective date, ``source``) before the old rows are deleted, so that records referring to
  them (place names, facilities, naming applications) move to the new unit;
- ``division_renamed`` (``division``, ``old_name``, ``on``, ``source``) after a unit's name changed;
- ``boundary_lines_replaced`` (``replaced``: old line id → the id of the line taking it over, or
  None for a line retired with no successor) before the old lines are retired (they stay, dated),
  so that records referring to them (survey uploads) move, or the change is refused if they cannot."""

from django.dispatch import Signal

divisions_changed = Signal()
divisions_replaced = Signal()
division_renamed = Signal()
boundary_lines_replaced = Signal()
