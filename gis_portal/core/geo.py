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


def _gcj02_to_wgs84_coords(coords: np.ndarray) -> np.ndarray:
    """Rectify an (n, 2) array of GCJ-02 lon/lat to WGS84 with prcoords' iterative inverse,
    accurate to well under a metre (the forward offset is 100-700 m around Chongqing)."""
    out = np.empty_like(coords)
    for i, (lon, lat) in enumerate(coords):
        wgs = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
        out[i] = (wgs.lon, wgs.lat)
    return out


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
