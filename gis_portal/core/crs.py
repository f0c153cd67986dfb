"""The coordinate reference systems the service knows, as EPSG codes: one table for every app.

Storage is WGS84 (EPSG:4326); CGCS2000 (EPSG:4490) equals it to well under a metre at this scale.
Planar measurements use the CGCS2000 3-degree Gauss-Krüger zones, which exist in two encodings:
with the zone number prefixed to the easting (zones 25-45, EPSG:4513-4533) and without it (central
meridians 75°E-135°E, EPSG:4534-4554). Chongqing lies in the zones of 105°E, 108°E and 111°E
(EPSG:4544-4546, or 4523-4525 with the prefix).
"""

WGS84 = 4326
CGCS2000 = 4490
WEB_MERCATOR = 3857

_GK_FIRST_ZONE, _GK_ZONES = 25, 21
# EPSG code -> zone number (the easting starts with it) for the zone-prefixed encoding.
GK_WITH_ZONE = {4513 + i: _GK_FIRST_ZONE + i for i in range(_GK_ZONES)}
# EPSG code -> central meridian (degrees east) for the encoding without prefix.
GK_CENTRAL_MERIDIAN = {4534 + i: 3 * (_GK_FIRST_ZONE + i) for i in range(_GK_ZONES)}
GAUSS_KRUGER = {**GK_WITH_ZONE, **GK_CENTRAL_MERIDIAN}
GEOGRAPHIC = (WGS84, CGCS2000)
# What field data may be stated in: geographic WGS84/CGCS2000 or a Gauss-Krüger zone.
SURVEY_CRS = frozenset((*GEOGRAPHIC, *GAUSS_KRUGER))


def gauss_kruger_srid(*, lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (no zone prefix) containing ``lon``."""
    central_meridian = 3 * round(lon / 3)
    return next(code for code, meridian in GK_CENTRAL_MERIDIAN.items() if meridian == central_meridian)


def gauss_kruger_zone_range(epsg: int) -> tuple[float, float]:
    """The easting range (metres) a Gauss-Krüger CRS can hold: the zone's million with the prefix
    (zone 35: 35,000,000-36,000,000), 0-1,000,000 without it."""
    if epsg in GK_WITH_ZONE:
        return GK_WITH_ZONE[epsg] * 1_000_000, (GK_WITH_ZONE[epsg] + 1) * 1_000_000
    return 0, 1_000_000


def crs_label(epsg: int) -> str:
    """A CRS of the table in words, e.g. ``EPSG:4545 CGCS2000 Gauss-Krüger CM 108°E``."""
    if epsg == WGS84:
        return f"EPSG:{epsg} WGS84"
    if epsg == CGCS2000:
        return f"EPSG:{epsg} CGCS2000"
    if epsg in GK_WITH_ZONE:
        return f"EPSG:{epsg} CGCS2000 Gauss-Krüger zone {GK_WITH_ZONE[epsg]}"
    return f"EPSG:{epsg} CGCS2000 Gauss-Krüger CM {GK_CENTRAL_MERIDIAN[epsg]}°E"


# The zones around Chongqing (central meridians 105°E, 108°E and 111°E), in both encodings.
CHONGQING_GAUSS_KRUGER = (4544, 4545, 4546, 4523, 4524, 4525)
