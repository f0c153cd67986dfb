"""Deterministic generation of what the real lines lack: markers, survey teams, inspection rounds
and history, problems and disputes. Same seed, same output; every row is ``is_synthetic = true``.

- Markers (provincial and county lines only): a triple marker at each tri-junction, and single or
  paired markers every ``MARKER_SPACING_M`` metres along each line (placed in CGCS2000 GK zone 36,
  EPSG:4545, whose scale error over Chongqing is under 0.1%).
- Teams: one per cluster; a line goes to the team of its responsible district's cluster.
- History: provincial lines in the 2023 round; county lines staggered 2017-2024 (so some are
  overdue in 2026); township lines 2018-2025. A few lines get open problems or a dispute.
"""

import datetime
import logging
from dataclasses import dataclass

import numpy as np
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction

from boundaries.lines import SAME_POINT_DEG
from boundaries.models import (
    BoundaryLine,
    BoundaryProblem,
    Cluster,
    Inspection,
    InspectionRound,
    Marker,
    MarkerCheck,
    SurveyTeam,
    TriJunction,
)
from gis_portal.core import sql
from gis_portal.core.crs import WGS84, gauss_kruger_srid

logger = logging.getLogger(__name__)

MARKER_SPACING_M = 5000
# Markers are spaced in the CGCS2000 3-degree Gauss-Krüger zone of 108°E (EPSG:4545).
MARKER_SRID = gauss_kruger_srid(lon=108)
ROUND_YEARS = {
    BoundaryLine.Level.PROVINCE: [2018, 2023],
    BoundaryLine.Level.COUNTY: list(range(2012, 2025)),
    BoundaryLine.Level.TOWNSHIP: list(range(2013, 2026)),
}

# Points every MARKER_SPACING_M along each part of each provincial and county line, at the
# middle of equal intervals (never on a tri-junction), in order along the line.
MARKER_POINTS_SQL = sql.compose(
    """
WITH parts AS (
    SELECT l.id, d.path[1] AS part, ST_Transform(d.geom, %(planar_srid)s) AS g
      FROM {line} l, ST_Dump(l.geom) d
     WHERE l.level IN ('province', 'county')
)
SELECT id AS line_id, ST_AsText(ST_Transform(ST_LineInterpolatePoint(g, (i - 0.5) / n), %(srid)s)) AS wkt
  FROM (SELECT id, part, g, greatest(1, round(ST_Length(g) / %(spacing)s))::int AS n FROM parts) p,
       generate_series(1, n) i
 ORDER BY id, part, i
""",
    line=BoundaryLine,
)

# Each provincial/county tri-junction goes to the lowest-coded line of its level ending there.
TRIPLE_POINTS_SQL = sql.compose(
    """
SELECT (SELECT l.id FROM {line} l
         WHERE l.level = t.level AND l.valid_to IS NULL AND ST_DWithin(l.geom, t.geom, %(tol)s)
         ORDER BY l.code LIMIT 1) AS line_id,
       ST_AsText(t.geom) AS wkt
  FROM {trijunction} t WHERE t.level IN ('province', 'county') ORDER BY t.level, t.codes
""",
    line=BoundaryLine,
    trijunction=TriJunction,
)

# A point at a fraction of the way along a line's first part (where a problem is reported).
POINT_ALONG_SQL = sql.compose(
    "SELECT ST_AsText(ST_LineInterpolatePoint(ST_GeometryN(geom, 1), %(fraction)s)) AS wkt"
    " FROM {line} WHERE id = %(id)s",
    line=BoundaryLine,
)

FINDINGS = {
    BoundaryProblem.Kind.MARKER: "界桩损坏，需修复",
    BoundaryProblem.Kind.ENCROACHMENT: "界线附近有跨界建设",
    BoundaryProblem.Kind.UNCLEAR: "实地界线不清",
    BoundaryProblem.Kind.DISPUTE: "双方对界线走向有争议",
}


@dataclass
class InspectionReport:
    markers: int
    teams: int
    inspections: int
    problems: int

    def __str__(self) -> str:
        return (
            f"{self.markers} markers, {self.teams} survey teams, {self.inspections} inspections, "
            f"{self.problems} problems and disputes (all synthetic)"
        )


def _date_in(rng: np.random.Generator, year: int) -> datetime.date:
    return datetime.date(year, 3, 1) + datetime.timedelta(days=int(rng.integers(0, 240)))


@transaction.atomic
def inspections_generate_synthetic(*, seed: int) -> InspectionReport:
    """Replace the generated markers, teams, rounds, inspections and problems with a fresh,
    deterministic set for the current lines. Rows not flagged synthetic are left alone."""
    rng = np.random.default_rng([seed, 4])
    BoundaryProblem.objects.filter(is_synthetic=True).delete()
    Inspection.objects.filter(is_synthetic=True).delete()
    Marker.objects.filter(is_synthetic=True).delete()
    SurveyTeam.objects.filter(is_synthetic=True).delete()
    InspectionRound.objects.filter(inspections__isnull=True).delete()

    along = sql.rows(MARKER_POINTS_SQL, {"planar_srid": MARKER_SRID, "srid": WGS84, "spacing": MARKER_SPACING_M})
    triples = sql.rows(TRIPLE_POINTS_SQL, {"tol": SAME_POINT_DEG})
    lines = {line.id: line for line in BoundaryLine.objects.all()}
    markers = []
    sequence: dict[int, int] = {}
    for row, marker_type in [
        *((row, "paired" if rng.random() < 0.15 else "single") for row in along),
        *((row, "triple") for row in triples),
    ]:
        line_id = row["line_id"]
        sequence[line_id] = sequence.get(line_id, 0) + 1
        line = lines[line_id]
        markers.append(
            Marker(
                number=f"{line.code}-{sequence[line_id]:03d}{Marker.TYPE_LETTER[marker_type]}",
                line=line,
                sequence=sequence[line_id],
                marker_type=marker_type,
                geom=GEOSGeometry(row["wkt"], srid=WGS84),
                is_synthetic=True,
            )
        )
    Marker.objects.bulk_create(markers, batch_size=2000)

    teams = {}
    for cluster in Cluster.objects.all():
        teams[cluster.slug] = SurveyTeam.objects.create(name=f"{cluster.name}界线联检队", is_synthetic=True)
        teams[cluster.slug].lines.set(
            BoundaryLine.objects.filter(district__cluster=cluster).values_list("id", flat=True)
        )

    rounds = {
        (level, year): InspectionRound.objects.get_or_create(level=level, year=year)[0]
        for level, years in ROUND_YEARS.items()
        for year in years
    }
    markers_by_line: dict[int, list[Marker]] = {}
    for marker in markers:
        markers_by_line.setdefault(marker.line_id, []).append(marker)

    inspections, checks, problems = [], [], []
    line_rows = sorted(lines.values(), key=lambda line: line.code)
    for line in line_rows:
        years = ROUND_YEARS[line.level]
        if line.level == BoundaryLine.Level.PROVINCE:
            history = [2018, 2023]
        else:
            last = int(rng.choice(years[-8:]))
            history = [year for year in (last - 10, last - 5, last) if year >= years[0]]
        team = teams.get(line.district.cluster_id) if line.district_id else None
        for year in history:
            inspections.append(
                Inspection(
                    line=line,
                    round=rounds[(line.level, year)],
                    team=team,
                    date=_date_in(rng, year),
                    result=Inspection.Result.CLEAR,
                    findings="界线清楚，界桩完好",
                    is_synthetic=True,
                )
            )
        latest = inspections[-1]
        line.last_inspected = latest.date
        line.status = BoundaryLine.Status.CLEAR
        draw = rng.random()
        if (line.level != BoundaryLine.Level.TOWNSHIP and draw < 0.12) or draw < 0.02:
            kind = rng.choice(
                [BoundaryProblem.Kind.MARKER, BoundaryProblem.Kind.ENCROACHMENT, BoundaryProblem.Kind.UNCLEAR]
                + ([BoundaryProblem.Kind.DISPUTE] * 3 if line.level == BoundaryLine.Level.COUNTY else [])
            )
            resolved = rng.random() < 0.3
            latest.result = Inspection.Result.DISPUTED if kind == "dispute" else Inspection.Result.PROBLEM
            latest.findings = FINDINGS[kind]
            problems.append((line, latest, str(kind), resolved))
            if not resolved:
                line.status = BoundaryLine.Status.DISPUTED if kind == "dispute" else BoundaryLine.Status.PROBLEM
    Inspection.objects.bulk_create(inspections, batch_size=2000)
    BoundaryLine.objects.bulk_update(line_rows, ["last_inspected", "status"], batch_size=2000)

    latest_by_line = {}
    for inspection in inspections:
        latest_by_line[inspection.line_id] = inspection
    for line_id, line_markers in markers_by_line.items():
        inspection = latest_by_line.get(line_id)
        if inspection is None:
            continue
        for marker in line_markers:
            marker.last_checked = inspection.date
            if inspection.result == Inspection.Result.PROBLEM and rng.random() < 0.3:
                marker.status = str(rng.choice(["damaged", "lost", "displaced"]))
            elif rng.random() < 0.03:
                marker.status = Marker.Status.REPLACED
            checks.append(MarkerCheck(inspection=inspection, marker=marker, status=marker.status))
    Marker.objects.bulk_update(markers, ["last_checked", "status"], batch_size=2000)
    MarkerCheck.objects.bulk_create(checks, batch_size=5000)

    problem_rows = []
    for line, inspection, kind, resolved in problems:
        along_line = sql.row(POINT_ALONG_SQL, {"fraction": float(rng.uniform(0.2, 0.8)), "id": line.id})
        problem_rows.append(
            BoundaryProblem(
                line=line,
                inspection=inspection,
                point=GEOSGeometry(along_line["wkt"], srid=WGS84),
                kind=kind,
                status=BoundaryProblem.Status.RESOLVED if resolved else BoundaryProblem.Status.OPEN,
                reported=inspection.date,
                resolved=inspection.date + datetime.timedelta(days=90) if resolved else None,
                description=FINDINGS[kind],
                is_synthetic=True,
            )
        )
    BoundaryProblem.objects.bulk_create(problem_rows)
    report = InspectionReport(
        markers=len(markers), teams=len(teams), inspections=len(inspections), problems=len(problem_rows)
    )
    logger.info("generated inspection history (seed %d): %s", seed, report)
    return report
