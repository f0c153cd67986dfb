"""Geometry helpers shared by the apps: datum rectification, reading GeoJSON sources, and moving
geometries between shapely and GEOS. Everything here is EPSG:4326 unless a name says otherwise."""

import json
from pathlib import Path

import numpy as np
import prcoords
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from shapely.errors import GEOSException
from shapely.geometry import shape

from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData

SOURCE_DATUMS = ("WGS84", "CGCS2000", "GCJ-02")


# GCJ-02 ("Mars coordinates"): the published forward offset (Krasovsky ellipsoid constants), and
# its inverse by fixed-point iteration, vectorised over arrays: the iteration prcoords'
# ``gcj_wgs_bored`` runs point by point, agreeing with it within 3e-8 degrees (a few millimetres).
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat += common + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon += common + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectify GCJ-02 lon/lat arrays to WGS84: iterate w <- w - (gcj(w) - g) until every point
    moves less than 1e-9 degrees (about 0.1 mm; three to five rounds)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(30):
        d_lon, d_lat = _gcj02_offset(w_lon, w_lat)
        e_lon, e_lat = w_lon + d_lon - lon, w_lat + d_lat - lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < 1e-9:
            break
    return w_lon, w_lat


def _gcj02_to_wgs84_coords(coords: np.ndarray) -> np.ndarray:
    """Rectify an (n, 2) array of GCJ-02 lon/lat to WGS84 with prcoords' iterative inverse,
    accurate to well under a metre (the forward offset is 100-700 m around Chongqing). Imports of
    polygons keep this one, so a re-import reproduces the stored vertices bit for bit; many points
    at once go through ``gcj02_to_wgs84`` (within 3e-8 degrees of it, 100 times faster)."""
    out = np.empty_like(coords)
    for i, (lon, lat) in enumerate(coords):
        wgs = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
        out[i] = (wgs.lon, wgs.lat)
    return out


def to_wgs84_arrays(lon: np.ndarray, lat: np.ndarray, *, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of lon/lat in ``datum`` as WGS84 (see ``to_wgs84``)."""
    if datum == "GCJ-02":
        return gcj02_to_wgs84(lon, lat)
    if datum in ("WGS84", "CGCS2000"):
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    raise InvalidData(f"unknown source datum {datum!r}; expected one of {', '.join(SOURCE_DATUMS)}")


def to_wgs84(geom: shapely.Geometry, *, datum: str) -> shapely.Geometry:
    """Return ``geom`` in WGS84 given the datum it is in. CGCS2000 geographic coordinates equal
    WGS84 to well under a metre at this scale, so only GCJ-02 is transformed. Each vertex maps
    alone, so polygons that share vertices still share them after the conversion."""
    if datum == "GCJ-02":
        return shapely.transform(geom, _gcj02_to_wgs84_coords)
    if datum in ("WGS84", "CGCS2000"):
        return geom
    raise InvalidData(f"unknown source datum {datum!r}; expected one of {', '.join(SOURCE_DATUMS)}")


def read_geojson_features(path: Path) -> list[tuple[dict, shapely.Geometry]]:
    """Read a GeoJSON FeatureCollection as (properties, shapely geometry) pairs; raise InvalidData
    with the reason when the file is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        features = data["features"]
        return [(f.get("properties") or {}, shape(f["geometry"])) for f in features]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, GEOSException) as exc:
        raise InvalidData(f"{path}: not a readable GeoJSON FeatureCollection ({exc})") from exc


def polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry (an intersection can add stray lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def to_geos_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    """A shapely (multi)polygon as a GEOS MultiPolygon in EPSG:4326 (the divisions' field type)."""
    geos = GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=WGS84)
    if isinstance(geos, Polygon):
        geos = MultiPolygon(geos, srid=WGS84)
    if not isinstance(geos, MultiPolygon):
        raise InvalidData(f"expected a polygon, got {geos.geom_type}")
    return geos
