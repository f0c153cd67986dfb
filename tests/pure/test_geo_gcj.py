"""The vectorised GCJ-02 inverse (gis_portal.core.geo) against prcoords' point-by-point one."""

import numpy as np
import prcoords

from gis_portal.core.geo import gcj02_to_wgs84, to_wgs84_arrays


def test_gcj02_inverse_matches_prcoords_and_round_trips():
    rng = np.random.default_rng(20190101)
    lon, lat = rng.uniform(105.0, 110.8, 2000), rng.uniform(27.5, 32.7, 2000)
    w_lon, w_lat = gcj02_to_wgs84(lon, lat)
    reference = [prcoords.gcj_wgs_bored(prcoords.Coords(y, x)) for x, y in zip(lon, lat, strict=True)]
    assert np.abs(w_lon - [r.lon for r in reference]).max() < 1e-7  # about a centimetre
    assert np.abs(w_lat - [r.lat for r in reference]).max() < 1e-7
    forward = [prcoords.wgs_gcj(prcoords.Coords(y, x)) for x, y in zip(w_lon, w_lat, strict=True)]
    assert np.abs(np.array([f.lon for f in forward]) - lon).max() < 1e-8
    shift = np.hypot(w_lon - lon, w_lat - lat).min()
    assert shift > 0.001  # GCJ-02 moves every point by hundreds of metres


def test_wgs84_and_cgcs2000_pass_through():
    lon, lat = np.array([106.5]), np.array([29.5])
    for datum in ("WGS84", "CGCS2000"):
        out = to_wgs84_arrays(lon, lat, datum=datum)
        assert out[0].tolist() == [106.5] and out[1].tolist() == [29.5]
