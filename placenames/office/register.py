"""The printed register of a district (标准地名图录典志): a map of the district among its neighbours,
its standard names by level (townships and streets, then the villages and communities of each, then
other names) with pinyin and codes, and an index by pinyin; laid out as PDF by WeasyPrint
(``placenames.register_pdf``), the Chinese text embedded as a font subset."""

import json
import logging

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from boundaries.models import Division
from gis_portal.core.api import METRES_PER_DEGREE
from placenames.register_pdf import REGISTER_FONT_FAMILY, district_map_svg, pdf_from_html
from placenames.selectors import placename_district_list

logger = logging.getLogger(__name__)

MAP_SIMPLIFY_M = 50  # the map is about 16 cm wide: 50 m is far below a printed line's width


def _map_features(district: Division) -> list[dict]:
    """The district and the districts touching it (simplified), as GeoJSON-like features."""
    neighbours = (
        Division.objects.filter(level=Division.Level.DISTRICT, geom__isnull=False)
        .filter(Q(pk=district.pk) | Q(geom__intersects=district.geom.envelope))
        .order_by("code")
    )
    features = []
    for d in neighbours:
        geometry = d.geom.simplify(MAP_SIMPLIFY_M / METRES_PER_DEGREE, preserve_topology=True)
        features.append({"properties": {"name": d.name}, "geometry": json.loads(geometry.geojson)})
    return features


def register_context(*, district: Division) -> dict:
    names = list(placename_district_list(district=district))
    townships = [p for p in names if p.feature_class == "township"]
    by_parent: dict[int, list] = {}
    for p in names:
        if p.feature_class == "village":
            by_parent.setdefault(p.parent_id, []).append(p)
    sections = [{"township": t, "villages": by_parent.get(t.division_id, [])} for t in townships]
    others = [p for p in names if p.feature_class not in ("district", "township", "village")]
    index = sorted(names, key=lambda p: (p.pinyin_plain, p.name))
    svg = district_map_svg(
        features=_map_features(district), focus=district.name, width=560, height=420, title=district.name
    )
    return {
        "district": district,
        "district_name": next((p for p in names if p.feature_class == "district"), None),
        "sections": sections,
        "others": others,
        "index": index,
        "map_svg": svg,
        "font_family": REGISTER_FONT_FAMILY,
        "count": len(names),
        "synthetic": sum(p.is_synthetic for p in names),
        "printed": timezone.localdate(),
    }


def district_register_pdf(*, district: Division) -> bytes:
    html = render_to_string("office/register_pdf.html", register_context(district=district))
    pdf = pdf_from_html(html=html)
    logger.info("register of %s: %d bytes", district.code, len(pdf))
    return pdf
