"""Signals the boundaries send to the apps above them (which boundaries must not import): data
derived from the divisions elsewhere (e.g. the facilities' nearest-facility table) is rebuilt on
``divisions_changed``, sent inside the writing transaction after an import or a generation."""

from django.dispatch import Signal

divisions_changed = Signal()
