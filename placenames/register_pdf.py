"""Groundwork of the printed register (标准地名图录典志): a district map drawn as an inline SVG
string from GeoJSON-like polygons, and HTML turned into PDF bytes with WeasyPrint.

The map uses an equirectangular projection scaled by the cosine of the middle latitude
(x = lon * cos(lat0), y = lat), fitted into the drawing with equal scale on both axes. Over a
district of Chongqing (well under 1° across) that keeps shapes within a fraction of a percent of a
conformal projection; it is a picture for the register, not a survey map.

The Chinese text needs a CJK font on the machine: scripts/setup.sh installs Debian's
fonts-noto-cjk, and ``REGISTER_FONT_FAMILY`` asks for Noto Sans CJK SC first. WeasyPrint embeds
the glyphs it uses as a font subset, so the PDF carries its own text.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from shapely.geometry import box, shape

REGISTER_FONT_FAMILY = '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif'
MAP_FOCUS_FILL = "#9ecae1"
MAP_CONTEXT_FILL = "#eeeeee"
MAP_STROKE = "#31506b"

Bbox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


def _rings(geometry: Mapping) -> Iterable[Sequence[Sequence[float]]]:
    """Every ring (outer and holes) of a GeoJSON Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon
    else:
        raise ValueError(f"expected a Polygon or MultiPolygon, got {geometry['type']!r}")


def _bbox(features: Iterable[Mapping]) -> Bbox:
    lons, lats = [], []
    for feature in features:
        for ring in _rings(feature["geometry"]):
            lons.extend(p[0] for p in ring)
            lats.extend(p[1] for p in ring)
    if not lons:
        raise ValueError("no coordinates to draw")
    return min(lons), min(lats), max(lons), max(lats)


def district_map_svg(
    *,
    features: Sequence[Mapping],
    focus: str | None = None,
    width: int = 480,
    height: int = 360,
    padding: float = 0.06,
    title: str = "",
) -> str:
    """An ``<svg>`` element drawing GeoJSON-like features (``{"properties": {"name": ...},
    "geometry": {"type": "Polygon" | "MultiPolygon", "coordinates": ...}}``, lon/lat EPSG:4326).

    The feature named ``focus`` is filled in the accent colour and the view is fitted to it (others,
    e.g. the neighbours, are drawn in grey and clipped at the frame); without ``focus`` the view fits
    all features. Each feature is labelled with its name at a point inside the part of it that is in
    the frame. ``padding`` is the share of the frame left empty around the fitted extent.
    """
    if not features:
        raise ValueError("no features to draw")
    focused = [f for f in features if focus is not None and (f.get("properties") or {}).get("name") == focus]
    if focus is not None and not focused:
        raise ValueError(f"no feature is named {focus!r}")
    min_lon, min_lat, max_lon, max_lat = _bbox(focused or features)
    cos_lat0 = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * cos_lat0, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    # One scale for both axes, so that the shape is not stretched; centre the extent in the frame.
    scale = min(width * (1 - 2 * padding) / span_x, height * (1 - 2 * padding) / span_y)
    offset_x = (width - span_x * scale) / 2
    offset_y = (height - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return offset_x + (lon - min_lon) * cos_lat0 * scale, offset_y + (max_lat - lat) * scale

    # The frame in lon/lat, to label each feature inside the part of it that is in view.
    frame = box(
        min_lon - offset_x / (cos_lat0 * scale),
        max_lat - (height - offset_y) / scale,
        min_lon + (width - offset_x) / (cos_lat0 * scale),
        max_lat + offset_y / scale,
    )
    paths, labels = [], []
    for feature in features:
        name = str((feature.get("properties") or {}).get("name", ""))
        is_focus = focus is not None and name == focus
        segments = []
        for ring in _rings(feature["geometry"]):
            points = [project(p[0], p[1]) for p in ring]
            segments.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        fill = MAP_FOCUS_FILL if is_focus else MAP_CONTEXT_FILL
        paths.append(
            f'<path d="{"".join(segments)}" fill="{fill}" fill-rule="evenodd" stroke="{MAP_STROKE}" '
            f'stroke-width="{1.6 if is_focus else 0.8}" stroke-linejoin="round"/>'
        )
        visible = shape(feature["geometry"]).intersection(frame)
        if name and not visible.is_empty:
            # A point inside the visible part (a centroid can fall outside a concave district).
            inside = visible.representative_point()
            x, y = project(inside.x, inside.y)
            weight = "bold" if is_focus else "normal"
            labels.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="{14 if is_focus else 11}" '
                f'font-weight="{weight}" fill="#1b2a38">{escape(name)}</text>'
            )
    title_element = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{title_element}'
        f'<defs><clipPath id="map-frame"><rect width="{width}" height="{height}"/></clipPath></defs>'
        f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#999999"/>'
        f'<g clip-path="url(#map-frame)">{"".join(paths)}</g>'
        f"<g font-family='{REGISTER_FONT_FAMILY}'>{''.join(labels)}</g>"
        "</svg>"
    )


def pdf_from_html(*, html: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document, laid out by WeasyPrint. ``base_url`` resolves relative links
    (images, style sheets); inline SVG needs none."""
    # Imported here: WeasyPrint loads Pango when imported, and the map above needs neither.
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
