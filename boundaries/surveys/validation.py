"""Validating field data against the official record, in metres, in SQL: each staged feature
inside the municipality or not, a track's deviation from the line, markers matched by number and
their displacement; the report a reviewer reads.

Track distances are planar in the CGCS2000 3-degree Gauss-Krüger zone of the official line (EPSG:4544,
4545 or 4546 around Chongqing): the projection's scale error within a zone is below 0.02%, i.e.
under 2 mm on a 10 m deviation, far below GPS accuracy.
"""

from dataclasses import asdict, dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiLineString
from django.db import transaction

from boundaries.models import BoundaryLine, Division, Marker
from boundaries.surveys.models import StagedFeature, SurveyUpload
from gis_portal.core import sql
from gis_portal.core.crs import WGS84, gauss_kruger_srid

# A track passes when this share of its vertices lies within the tolerance of the line.
TRACK_PASS_SHARE = 0.95


@dataclass
class Deviation:
    """Distances in metres from every vertex of a track to the official line."""

    points: int
    max_m: float
    mean_m: float
    p95_m: float
    tolerance_m: float
    share_within: float

    def as_dict(self) -> dict:
        return asdict(self)


# The official line cut into indexed pieces of at most 32 vertices (measured fastest: smaller pieces
# deepen the index, larger ones cost more per distance), so that each vertex finds its nearest piece
# by KNN (``<->``) instead of measuring against the whole line.
LINE_SEGMENTS_SQL = sql.SQL("""
DROP TABLE IF EXISTS pg_temp.survey_line_segments;
CREATE TEMP TABLE survey_line_segments ON COMMIT DROP AS
SELECT (ST_Dump(ST_Subdivide(ST_Transform(ST_GeomFromEWKB(%(line)s), %(srid)s), 32))).geom AS g;
CREATE INDEX ON survey_line_segments USING gist (g);
ANALYZE survey_line_segments;
""")
TRACK_DEVIATION_SQL = sql.SQL("""
WITH vertices AS (SELECT (ST_DumpPoints(ST_Transform(ST_GeomFromEWKB(%(track)s), %(srid)s))).geom AS g)
SELECT count(*) AS points, max(d) AS max_m, avg(d) AS mean_m,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY d) AS p95_m, avg((d <= %(tolerance)s)::int) AS share_within
  FROM vertices v
 CROSS JOIN LATERAL (SELECT ST_Distance(v.g, s.g) AS d FROM survey_line_segments s ORDER BY s.g <-> v.g LIMIT 1) nearest
""")


@transaction.atomic
def track_deviation(*, track: GEOSGeometry, line: GEOSGeometry, tolerance_m: float) -> Deviation:
    """Max, mean, 95th percentile of the distance (m) from each track vertex to ``line``, and the
    share of vertices within ``tolerance_m``. Both geometries in EPSG:4326."""
    srid = gauss_kruger_srid(lon=line.centroid.x)
    sql.execute(LINE_SEGMENTS_SQL, {"line": bytes(line.ewkb), "srid": srid})
    found = sql.row(TRACK_DEVIATION_SQL, {"track": bytes(track.ewkb), "srid": srid, "tolerance": tolerance_m})
    return Deviation(**found | {"share_within": float(found["share_within"])}, tolerance_m=tolerance_m)


# Each staged feature: inside the municipality or not, and a marker's distance to the line (geodesic m).
FEATURE_CHECKS_SQL = sql.compose(
    """
UPDATE {feature} f
   SET inside_municipality = ST_Covers(m.geom, f.geom),
       distance_m = CASE WHEN f.kind = 'marker' THEN ST_Distance(f.geom::geography, l.geom::geography) END
  FROM {upload} u
  JOIN {line} l ON l.id = u.line_id,
       {division} m
 WHERE f.upload_id = u.id AND u.id = %(upload)s AND m.level = 'municipality'
""",
    feature=StagedFeature,
    upload=SurveyUpload,
    line=BoundaryLine,
    division=Division,
)
# Markers matched by number to the line's markers, with their displacement (geodesic m).
MARKER_MATCH_SQL = sql.compose(
    """
UPDATE {feature} f
   SET marker_id = m.id, displacement_m = ST_Distance(f.geom::geography, m.geom::geography)
  FROM {marker} m, {upload} u
 WHERE f.upload_id = %(upload)s AND u.id = f.upload_id AND f.kind = 'marker'
   AND m.number = f.number AND m.line_id = u.line_id
""",
    feature=StagedFeature,
    marker=Marker,
    upload=SurveyUpload,
)


def survey_upload_validate(*, upload: SurveyUpload) -> dict:
    """Check every staged feature (inside the municipality; tracks' deviation from the line;
    markers matched by number to the line's markers and their displacement) and return the report."""
    sql.execute(FEATURE_CHECKS_SQL, {"upload": upload.pk})
    sql.execute(MARKER_MATCH_SQL, {"upload": upload.pk})
    features = list(upload.features.select_related("marker").order_by("index"))
    tolerance = upload.tolerance_m
    line_geom = upload.line.geom

    tracks = [f for f in features if f.kind == StagedFeature.Kind.TRACK]
    deviation = None
    if tracks:
        parts = []
        for track in tracks:
            parts.extend(track.geom if track.geom.geom_type == "MultiLineString" else [track.geom])
        deviation = track_deviation(
            track=MultiLineString(parts, srid=WGS84), line=line_geom, tolerance_m=tolerance
        ).as_dict()

    markers = [f for f in features if f.kind == StagedFeature.Kind.MARKER]
    matched = [f for f in markers if f.marker_id]
    numbers_in_file = {f.number for f in markers}
    expected = list(Marker.objects.filter(line=upload.line).order_by("sequence").values_list("number", flat=True))
    displacements = [f.displacement_m for f in matched]
    outside = [f.index for f in features if not f.inside_municipality]
    report = {
        "line": {"code": upload.line.code, "name": upload.line.name},
        "crs": f"EPSG:{upload.crs}",
        "crs_source": upload.crs_source,
        "tolerance_m": tolerance,
        "tolerance_source": upload.tolerance_source,
        "features": len(features),
        "tracks": len(tracks),
        "markers": len(markers),
        "all_geometry_valid": True,  # the parser refuses any invalid geometry
        "outside_municipality": outside,
        "track_deviation": deviation,
        "markers_matched": len(matched),
        "unknown_numbers": sorted(f.number for f in markers if not f.marker_id),
        "expected_missing": [n for n in expected if n not in numbers_in_file] if markers else [],
        "marker_displacement": {
            "max_m": max(displacements) if displacements else None,
            "mean_m": sum(displacements) / len(displacements) if displacements else None,
            "share_within": (sum(d <= tolerance for d in displacements) / len(displacements))
            if displacements
            else None,
        },
        "per_feature": [
            {
                "index": f.index,
                "kind": f.kind,
                "number": f.number or None,
                "inside_municipality": f.inside_municipality,
                "matched_marker": f.marker.number if f.marker else None,
                "displacement_m": f.displacement_m,
                "distance_to_line_m": f.distance_m,
            }
            for f in features
        ],
    }
    report["passed"] = bool(
        not outside
        and (deviation is None or deviation["share_within"] >= TRACK_PASS_SHARE)
        and not report["unknown_numbers"]
        and (report["marker_displacement"]["share_within"] in (None, 1.0))
    )
    return report
