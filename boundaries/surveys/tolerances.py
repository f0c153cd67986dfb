"""The tolerance (metres) that decides whether an upload passes: a track vertex or a found marker
within it of the official line or marker counts as on it. It comes from the line's level, as data
with its source, never from the uploader.

Source: GB/T 17796-2009 《行政区域界线测绘规范》 (administrative boundary surveying and mapping,
provincial and lower levels; it replaced GB/T 17796-1999, provincial only) states the plane accuracy
of boundary marker points (界桩点) and boundary turning points relative to nearby control points.
Its figures could not be confirmed from a text available to us, so the values below are the
bureau's own setting (its earlier default, 5 m, for every level: what a handheld GNSS walk of the
line can hold), to be replaced by the standard's figures once they are read from the standard.
"""

from dataclasses import dataclass

from boundaries.models import BoundaryLine

BUREAU_SETTING = (
    "bureau setting (5 m, the earlier default); GB/T 17796-2009 《行政区域界线测绘规范》 sets the accuracy of "
    "界桩点 relative to nearby control points, but its figure is not confirmed here"
)


@dataclass(frozen=True)
class LineTolerance:
    metres: float
    source: str


LINE_TOLERANCES = {
    BoundaryLine.Level.PROVINCE: LineTolerance(5.0, BUREAU_SETTING),
    BoundaryLine.Level.COUNTY: LineTolerance(5.0, BUREAU_SETTING),
    BoundaryLine.Level.TOWNSHIP: LineTolerance(5.0, BUREAU_SETTING),
}


def line_tolerance(line: BoundaryLine) -> LineTolerance:
    """The tolerance for uploads of ``line``, by its level."""
    return LINE_TOLERANCES[BoundaryLine.Level(line.level)]
