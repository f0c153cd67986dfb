"""Deviation of a track from a line, in metres, on geometry whose answer is known."""

import pytest
from django.contrib.gis.geos import LineString, MultiLineString
from pyproj import Transformer

from boundaries.surveys.validation import track_deviation

pytestmark = pytest.mark.django_db
TO_GK = Transformer.from_crs(4326, 4545, always_xy=True)
TO_WGS = Transformer.from_crs(4545, 4326, always_xy=True)


def gk_line(points):
    return LineString([TO_WGS.transform(x, y) for x, y in points], srid=4326)


def test_track_offset_by_known_distances():
    # An official line 2 km due north in GK zone CM108°E, and a track 10 m east of it with one
    # vertex 30 m off: 21 vertices, max 30 m, mean (20 × 10 + 30) / 21.
    x0, y0 = TO_GK.transform(108.1, 30.2)
    line = MultiLineString(gk_line([(x0, y0), (x0, y0 + 2000)]), srid=4326)
    track = gk_line([(x0 + (30 if i == 10 else 10), y0 + 100 * i) for i in range(21)])
    deviation = track_deviation(track=track, line=line, tolerance_m=15)
    assert deviation.points == 21
    assert deviation.max_m == pytest.approx(30, abs=0.01)
    assert deviation.mean_m == pytest.approx((20 * 10 + 30) / 21, abs=0.01)
    assert deviation.share_within == pytest.approx(20 / 21)
    assert deviation.p95_m == pytest.approx(10, abs=0.01)
