"""Reads of the gazetteer: a place as the GeoJSON Feature PostgreSQL writes, with its hierarchy
(shared with ``placenames.search``), one place's detail, the names nearest a point, the
duplicate-name check of a naming application, a district's names (for its exports and its printed
list) and a name in use on a date.

The SQL is composed with ``gis_portal.core.sql``: tables come from the models, columns are
identifiers, every value is a bound parameter, and rows are read by column name. Points are
EPSG:4326; distances are geodesic metres.
"""

import datetime
import json
import logging

from django.db import models
from django.db.models import QuerySet

from boundaries.models import Division
from boundaries.selectors import division_district
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidParameter, NotFound
from placenames.models import PlaceName, PlaceNameVariant
from placenames.text import pinyin_plain, query_normalise

logger = logging.getLogger(__name__)

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}

# --- a place name as a GeoJSON Feature, written by PostgreSQL -------------------------------------

# The hierarchy from the top down, as (division alias, alias whose ``name`` is shown): the divisions
# above the place (a3, a2, a1: the joins of ``PLACE_JOINS``), then the division it is the name of,
# if any, under the place's standard name (no committee suffix).
HIERARCHY_LEVELS = (("a3", "a3"), ("a2", "a2"), ("a1", "a1"), ("d", "p"))
# Each level as ``{code, name, level}``; one without a code is NULL, which concat_ws leaves out.
PLACE_HIERARCHY = sql.compose(
    "('[' || concat_ws(',', {levels}) || ']')::json",
    levels=sql.join(
        (
            sql.compose(
                "CASE WHEN {code} <> ''"
                " THEN json_build_object('code', {code}, 'name', {name}, 'level', {level})::text END",
                code=sql.Identifier(division, "code"),
                name=sql.Identifier(named, "name"),
                level=sql.Identifier(division, "level"),
            )
            for division, named in HIERARCHY_LEVELS
        ),
        ", ",
    ),
)
# A place's properties as the API gives them, in this order (``code``: the division it names).
PLACE_PROPERTIES: list[tuple[str, sql.Composable]] = [
    ("id", sql.SQL("p.id")),
    ("name", sql.SQL("p.name")),
    ("pinyin", sql.SQL("p.pinyin")),
    ("code", sql.SQL("d.code")),
    ("feature_class", sql.SQL("p.feature_class")),
    ("hierarchy", PLACE_HIERARCHY),
    ("is_synthetic", sql.SQL("p.is_synthetic")),
]
# The place (alias ``p``), its division (d) and the divisions above it: a1 its parent division, a2
# and a3 further up.
PLACE_JOINS = sql.compose(
    """LEFT JOIN {division} d ON d.id = p.division_id
  LEFT JOIN {division} a1 ON a1.id = p.parent_id
  LEFT JOIN {division} a2 ON a2.id = a1.parent_id
  LEFT JOIN {division} a3 ON a3.id = a2.parent_id""",
    division=Division,
)

PLACES_SQL = (
    "SELECT p.id, {place_feature} AS feature FROM {placename} p {place_joins} WHERE {where} ORDER BY p.rank, p.name"
)

# The ``limit`` names nearest the point: %(candidates)s from the GiST index by KNN ``<->`` (planar,
# degrees), then ordered by their geodesic distance (spheroid, metres).
NEARBY_SQL = """SELECT p.id, {place_feature} AS feature
  FROM (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), %(srid)s) AS g) pt
  CROSS JOIN LATERAL (
      SELECT c.*, ST_Distance(c.point::geography, pt.g::geography) AS distance_m
        FROM (SELECT * FROM {placename} p WHERE p.point IS NOT NULL
               ORDER BY p.point <-> pt.g LIMIT %(candidates)s) c
       ORDER BY distance_m, c.id LIMIT %(limit)s) p
  {place_joins}
 ORDER BY p.distance_m, p.id"""
# The distance as the answer gives it: metres to 0.1 m (PostgreSQL's numeric round).
NEARBY_DISTANCE = ("distance_m", sql.SQL("round(p.distance_m::numeric, 1)"))


def place_query(
    template: str, *, extra: tuple[tuple[str, sql.Composable], ...] = (), **parts: sql.Composable
) -> sql.Composed:
    """``template`` composed with ``{place_feature}`` (the place ``p`` as a GeoJSON Feature: id,
    point with 6 decimals, ``PLACE_PROPERTIES`` then the ``extra`` properties, written by
    ``gis_portal.core.sql.geojson_feature``), ``{place_joins}`` and the gazetteer's tables
    (``{placename}``, ``{variant}``)."""
    feature = sql.geojson_feature(
        id=sql.SQL("p.id"), geometry=sql.SQL("p.point"), properties=[*PLACE_PROPERTIES, *extra]
    )
    return sql.compose(
        template,
        place_feature=feature,
        place_joins=PLACE_JOINS,
        placename=PlaceName,
        variant=PlaceNameVariant,
        **parts,
    )


def place_answer(feature: str) -> dict:
    """A place's Feature (``place_query``) as a dict: its properties, then its ``geometry``."""
    parsed = json.loads(feature)
    return {**parsed["properties"], "geometry": parsed["geometry"]}


def _places_where(where: sql.Composable, params: dict) -> list[dict]:
    """The places meeting the condition ``where`` (on alias ``p``, its values in ``params``), larger
    divisions first, then by name."""
    return [place_answer(row["feature"]) for row in sql.rows(place_query(PLACES_SQL, where=where), params)]


# What a place's detail adds to its columns, in this order, and what it shows of each variant.
DETAIL_FIELDS = (
    "specific generic pinyin_tone status meaning history_text approval_ref approval_date valid_from valid_to"
)
VARIANT_FIELDS = ("kind", "name", "pinyin", "language", "valid_from", "valid_to", "note", "is_synthetic")


def placename_detail(*, placename_id: int) -> dict:
    """One place with its hierarchy, variants (former names with dates) and recorded changes."""
    places = _places_where(sql.SQL("p.id = %(id)s"), {"id": placename_id}) if 0 < placename_id < 2**63 else []
    if not places:
        raise NotFound(f"no place name with id {placename_id}")
    place = places[0]
    obj = PlaceName.objects.get(pk=placename_id)
    place.update({field: getattr(obj, field) for field in DETAIL_FIELDS.split()})
    place["variants"] = list(obj.variants.order_by("kind", "valid_from").values(*VARIANT_FIELDS))
    place["changes"] = [
        {
            "date": h.history_date,
            "type": CHANGE_TYPES.get(h.history_type, h.history_type),
            "user": h.history_user.get_username() if h.history_user else None,
            "name": h.name,
            "reason": h.history_change_reason,
        }
        for h in obj.history.select_related("history_user").order_by("-history_date")[:20]
    ]
    return place


def placename_nearby_text(*, lon: float, lat: float, limit: int = 10) -> list[str]:
    """The ``limit`` names nearest to a WGS84 point as GeoJSON Features written by PostgreSQL, each
    with its geodesic distance in metres (spheroid, to 0.1 m). Candidates come from the GiST index
    by KNN ``<->`` (planar, in degrees), a margin more than asked; the answer is ordered by the
    geodesic distance."""
    params = {"lon": lon, "lat": lat, "srid": WGS84, "limit": limit, "candidates": limit * 3 + 20}
    return [row["feature"] for row in sql.rows(place_query(NEARBY_SQL, extra=(NEARBY_DISTANCE,)), params)]


SAME_NAME_OR_PINYIN = "{scope} AND (p.name = %(name)s OR p.pinyin_plain = %(plain)s)"


def placename_duplicates(*, name: str, parent: Division) -> dict:
    """Conflicts of a proposed name under ``parent``: current or former names in the same district
    (or county) with the same name, the same 专名 and generic, or the same pinyin spelling
    (homophones), which the place-name regulations ask a bureau to avoid. Under the municipality
    itself the whole municipality is searched."""
    text, chinese = query_normalise(name)
    if not chinese or not text:
        raise InvalidParameter("name: a proposed name in Chinese characters")
    district = division_district(division=parent)
    if district is None and parent.level != Division.Level.MUNICIPALITY:
        logger.warning("duplicate check refused: no district or county has the code prefix of %s", parent.code)
        raise NotFound(f"no district or county for division {parent.code}")
    area = district or parent
    plain = pinyin_plain(text)
    scope = sql.SQL("p.district_id = %(district)s" if district else "TRUE")
    params = {"name": text, "plain": plain, "district": area.id}
    conflicts = []
    for place in _places_where(sql.compose(SAME_NAME_OR_PINYIN, scope=scope), params):
        place["conflict"] = "same_name" if place["name"] == text else "same_pinyin"
        conflicts.append(place)
    former = PlaceNameVariant.objects.filter(kind=PlaceNameVariant.Kind.FORMER, name=text)
    if district:
        former = former.filter(placename__district=district)
    former_ids = list(former.values_list("placename_id", flat=True))
    if former_ids:
        for place in _places_where(sql.SQL("p.id = ANY(%(ids)s)"), {"ids": former_ids}):
            place["conflict"] = "former_name"
            conflicts.append(place)
    return {
        "name": text,
        "pinyin_plain": plain,
        "district": {"code": area.code, "name": area.name},
        "conflicts": conflicts,
        "ok": not conflicts,
    }


def placename_district_list(*, district: Division) -> QuerySet[PlaceName]:
    """The standard names of one district or county, in code order (for exports and the 地名录)."""
    return (
        PlaceName.objects.filter(district=district)
        .select_related("division", "parent")
        .order_by("rank", "division__code", "name")
    )


def placename_name_on(*, placename_id: int, on: datetime.date) -> dict | None:
    """The name a place bore on ``on``: its own if valid then, else the former name valid then
    (e.g. 新盛镇 for 新盛街道 in 2019), as ``{name, pinyin, kind, valid_from, valid_to}``; None if
    neither was in use that day (the place was not yet named)."""
    place = PlaceName.objects.filter(pk=placename_id).first()
    if place is None:
        raise NotFound(f"no place name with id {placename_id}")
    if (place.valid_from is None or place.valid_from <= on) and (place.valid_to is None or place.valid_to >= on):
        return {
            "name": place.name,
            "pinyin": place.pinyin,
            "kind": "standard",
            "valid_from": place.valid_from,
            "valid_to": place.valid_to,
        }
    former = (
        place.variants.filter(kind=PlaceNameVariant.Kind.FORMER)
        .filter(models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=on))
        .filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=on))
        .order_by("-valid_to")
        .first()
    )
    if former is None:
        return None
    return {
        "name": former.name,
        "pinyin": former.pinyin,
        "kind": "former",
        "valid_from": former.valid_from,
        "valid_to": former.valid_to,
    }
