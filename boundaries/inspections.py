"""Writes of the joint-inspection record: one inspection of a line with its marker checks, the
markers' new positions and states, and the line's status and date. Survey uploads and staff change
the official record only through ``inspection_record``."""

import datetime
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import Point
from django.db import transaction

from boundaries.models import BoundaryLine, Inspection, Marker, MarkerCheck, SurveyTeam
from gis_portal.core.errors import InvalidData

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarkerReport:
    """What a survey found of one marker: where it stands (EPSG:4326) and its state, if stated."""

    marker_id: int
    location: Point
    status: str | None = None


@transaction.atomic
def inspection_record(
    *,
    line: BoundaryLine,
    team: SurveyTeam | None,
    date: datetime.date,
    markers: list[MarkerReport],
    findings: str,
    user: AbstractBaseUser | None,
) -> Inspection:
    """Record an inspection of ``line`` on ``date``: each reported marker is checked, moved to where
    it was found and given its reported state (an unknown state keeps the old one); earlier values
    stay in the markers' history. The inspection's result is ``problem`` when any marker is not
    intact; the line is marked inspected on ``date`` (if later than its last inspection) and its
    status follows the result unless it is disputed."""
    statuses = set(Marker.Status.values)
    by_id = {m.id: m for m in Marker.objects.filter(line=line, id__in=[r.marker_id for r in markers])}
    unknown = [r.marker_id for r in markers if r.marker_id not in by_id]
    if unknown:
        raise InvalidData(f"markers {unknown} are not on line {line.code}")
    # Markers loaded in bulk have no history yet: record their state before it changes.
    without_history = [m for m in by_id.values() if not m.history.exists()]
    Marker.history.bulk_history_create(without_history, default_change_reason="before inspection")
    checks = []
    for report in markers:
        marker = by_id[report.marker_id]
        if report.status in statuses:
            marker.status = report.status
        marker.geom = report.location
        marker.last_checked = date
        marker._history_user = user
        marker.save()
        checks.append((marker, marker.status))
    problem = any(status != Marker.Status.INTACT for _, status in checks)
    inspection = Inspection.objects.create(
        line=line,
        team=team,
        date=date,
        result=Inspection.Result.PROBLEM if problem else Inspection.Result.CLEAR,
        findings=findings,
    )
    MarkerCheck.objects.bulk_create(MarkerCheck(inspection=inspection, marker=m, status=s) for m, s in checks)
    if line.last_inspected is None or date > line.last_inspected:
        line.last_inspected = date
    if line.status != BoundaryLine.Status.DISPUTED:
        line.status = BoundaryLine.Status.PROBLEM if problem else BoundaryLine.Status.CLEAR
    line.save(update_fields=["last_inspected", "status"])
    logger.info(
        "inspection %s of line %s recorded (%s, %d markers)", inspection.pk, line.code, inspection.result, len(checks)
    )
    return inspection
