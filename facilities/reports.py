"""The coverage report: a standalone HTML map (folium) of one district, one cluster or the whole
municipality, meant to be mailed and opened offline. Text from the database (names, the standard's
source) reaches it only escaped: the header through a Django template with autoescaping, tooltips
through ``html.escape`` (Leaflet inserts tooltip strings as HTML)."""

import html
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from boundaries.models import Division
from facilities.models import CoverageStandard, Facility
from facilities.selectors import (
    cluster_or_none,
    coverage_by_division,
    coverage_gaps,
    district_id_or_none,
)
from facilities.suggestions import coverage_suggest
from gis_portal.core import sql
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.formats import geojson_collection, geojson_feature

if TYPE_CHECKING:
    import folium

SHARE_COLOURS = ((0.5, "#d7301f"), (0.7, "#fc8d59"), (0.9, "#fdcc8a"), (1.01, "#1a9850"))
MAX_GAPS_SHOWN = 300
DISTRICTS_SQL = """
SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.002), 5) AS geojson,
       ST_XMin(geom) AS west, ST_YMin(geom) AS south, ST_XMax(geom) AS east, ST_YMax(geom) AS north
  FROM {division}
 WHERE level = 'district' AND (%(district)s::bigint IS NULL OR id = %(district)s)
   AND (%(cluster)s::text IS NULL OR cluster_id = %(cluster)s)
 ORDER BY code
"""


def share_colour(share: float | None) -> str:
    if share is None:
        return "#cccccc"
    return next(colour for limit, colour in SHARE_COLOURS if share < limit)


def _vendored(path: str) -> str:
    """The text of a vendored static file (e.g. Leaflet from django-leaflet)."""
    return Path(finders.find(path)).read_text(encoding="utf-8")


def _tooltip(text: str) -> "folium.Tooltip":
    import folium  # here, not at the top: folium (with pandas and jinja2) is for this report alone

    return folium.Tooltip(html.escape(text))


def coverage_report_html(
    *, category: str, district_code: str | None = None, cluster: str | None = None, k: int = 5
) -> str:
    """The report: districts coloured by covered share, the gaps (worst MAX_GAPS_SHOWN) and up to
    ``k`` suggested sites. Self-contained: Leaflet (the vendored copy) is inlined instead of
    folium's CDN links, so the file works offline; no basemap unless configured."""
    if district_code and cluster:
        raise InvalidParameter("give a district or a cluster, not both")
    district_id, cluster = district_id_or_none(district_code), cluster_or_none(cluster)
    rollup = coverage_by_division(category=category, group_by="district", district_code=district_code)
    shares = {row["code"]: row for row in rollup["results"]}
    districts = sql.rows(sql.compose(DISTRICTS_SQL, division=Division), {"district": district_id, "cluster": cluster})
    import folium  # here, not at the top: folium (with pandas and jinja2) is for this report alone

    fmap = folium.Map(tiles=None, control_scale=True)
    fmap.default_js, fmap.default_css = [], []  # no CDN: Leaflet is inlined below, nothing else is used
    header = fmap.get_root().header
    header.add_child(folium.Element(f"<style>{_vendored('leaflet/leaflet.css')}</style>"), name="leaflet_css")
    header.add_child(folium.Element(f"<script>{_vendored('leaflet/leaflet.js')}</script>"), name="leaflet")
    if settings.BASEMAP_URL:
        folium.TileLayer(settings.BASEMAP_URL, attr=html.escape(settings.BASEMAP_ATTRIBUTION or "basemap")).add_to(fmap)

    features = []
    for district in districts:
        row = shares.get(district["code"], {})
        share = row.get("covered_share")
        properties = {
            "name": html.escape(district["name"]),
            "code": district["code"],
            "covered": f"{row.get('covered', 0)} / {row.get('demand_points', 0)}",
            "share": "–" if share is None else f"{share:.0%}",
            "colour": share_colour(share),
        }
        features.append(geojson_feature(geometry=district["geojson"], properties=properties))
    folium.GeoJson(
        geojson_collection(features),
        name="coverage",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#444",
            "weight": 1,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "covered", "share"], aliases=["", "covered", "share"]),
    ).add_to(fmap)

    gaps = coverage_gaps(category=category, district_code=district_code, cluster=cluster, limit=MAX_GAPS_SHOWN)
    gap_layer = folium.FeatureGroup(name="gaps").add_to(fmap)
    for f in gaps["features"]:
        lon, lat = f["geometry"]["coordinates"]
        p = f["properties"]
        folium.CircleMarker(
            [lat, lon], radius=4, color="#b2182b", fill=True, fill_opacity=0.8,
            tooltip=_tooltip(f"{p['rank']}. {p['name']} ({p['district']}) — {p['elderly_population']} aged 60+"),
        ).add_to(gap_layer)  # fmt: skip
    if rollup["rule"]["kind"] != CoverageStandard.Kind.CAPACITY and k > 0:
        sites = coverage_suggest(category=category, k=k, district_code=district_code, cluster=cluster)
        site_layer = folium.FeatureGroup(name="suggested sites").add_to(fmap)
        for f in sites["features"]:
            lon, lat = f["geometry"]["coordinates"]
            p = f["properties"]
            folium.CircleMarker(
                [lat, lon], radius=9, color="#1a4f9c", weight=3, fill=True, fill_color="#4f8fe0", fill_opacity=0.9,
                tooltip=_tooltip(f"#{p['rank']} near {p['at_name']}: +{p['population_newly_covered']} people"),
            ).add_to(site_layer)  # fmt: skip
    folium.LayerControl().add_to(fmap)
    if districts:
        fmap.fit_bounds(
            [[min(d["south"] for d in districts), min(d["west"] for d in districts)],
             [max(d["north"] for d in districts), max(d["east"] for d in districts)]]
        )  # fmt: skip
    bands = [
        {"colour": colour, "label": f"< {limit:.0%}" if limit <= 1 else "≥ 90%"} for limit, colour in SHARE_COLOURS
    ]
    title = f"{Facility.Category(category).label} — {rollup['rule']['label']}"
    context = {"title": title, "bands": bands, "uncovered": gaps["total_uncovered"], "source": rollup["rule"]["source"]}
    fmap.get_root().html.add_child(folium.Element(render_to_string("facilities/report_header.html", context)))
    return fmap.get_root().render()
