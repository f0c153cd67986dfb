"""Reads of the OGC API – Features: a collection's features rendered by PostgreSQL as GeoJSON text
(``ST_AsGeoJSON`` for the geometry, ``json_build_object`` for the properties), selected by ``bbox``,
``datetime`` and a CQL2 filter, in the requested CRS, one page at a time.

CRSs (Part 2): CRS84 (longitude, latitude; the default and the storage), EPSG:4326 and EPSG:4490
(CGCS2000; latitude, longitude, as the EPSG axis order says) and EPSG:3857 (metres). EPSG:4490
equals WGS84 to well under a metre here; coordinates are written with 6 decimals (about 0.1 m) in
degrees and 2 (1 cm) in metres.
"""

import datetime
import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from boundaries.history_selectors import division_history_range
from gis_portal.core import sql
from gis_portal.core.api import METRES_PER_DEGREE
from gis_portal.core.changes import tables_version
from gis_portal.core.crs import CGCS2000, WEB_MERCATOR, WGS84
from gis_portal.core.errors import InvalidParameter, NotFound
from gis_portal.portal.ogc.collections import Collection
from gis_portal.portal.ogc.cql import GEOMETRY, filter_sql

# A page of 10,000 features sorts in memory (the default 4 MB spills to disk).
PAGE_SETTINGS = {"work_mem": "32MB"}


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    lat_first: bool  # axis order latitude, longitude (EPSG geographic CRSs)
    precision: int


CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRSS = {
    crs.uri: crs
    for crs in (
        Crs(CRS84, WGS84, False, 6),
        Crs(f"http://www.opengis.net/def/crs/EPSG/0/{CGCS2000}", CGCS2000, True, 6),
        Crs(f"http://www.opengis.net/def/crs/EPSG/0/{WGS84}", WGS84, True, 6),
        Crs(f"http://www.opengis.net/def/crs/EPSG/0/{WEB_MERCATOR}", WEB_MERCATOR, False, 2),
    )
}


def crs_parse(raw: str | None, *, parameter: str) -> Crs:
    """A CRS the service offers, by URI (``[EPSG:4490]`` safe CURIEs are accepted too); 400 if not."""
    if raw in (None, ""):
        return CRSS[CRS84]
    uri = raw.strip()
    if uri.startswith("[") and uri.endswith("]"):
        authority, _, code = uri[1:-1].partition(":")
        uri = CRS84 if (authority, code) == ("OGC", "CRS84") else f"http://www.opengis.net/def/crs/{authority}/0/{code}"
    if uri not in CRSS:
        raise InvalidParameter(f"{parameter}: {raw[:100]!r} is not offered; one of {', '.join(CRSS)}")
    return CRSS[uri]


def bbox_parse(raw: str | None) -> tuple[float, float, float, float] | None:
    """``bbox``: four numbers (or six, with heights, which are ignored), in the bbox CRS's axis order."""
    if raw in (None, ""):
        return None
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError:
        raise InvalidParameter("bbox: four comma-separated numbers: minx,miny,maxx,maxy") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter("bbox: four comma-separated numbers: minx,miny,maxx,maxy")
    half = len(numbers) // 2
    box = (numbers[0], numbers[1], numbers[half], numbers[half + 1])
    if box[1] > box[3]:
        raise InvalidParameter("bbox: the lower bound of the second axis is above its upper bound")
    return box


def _date(raw: str) -> datetime.date | None:
    if raw in ("", ".."):
        return None
    try:
        return datetime.date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidParameter(f"datetime: {raw[:40]!r} is not a date (RFC 3339) or '..'") from None


def datetime_parse(raw: str | None) -> tuple[datetime.date | None, datetime.date | None] | None:
    """``datetime``: an instant (that day) or an interval ``start/end`` with ``..`` for open ends."""
    if raw in (None, ""):
        return None
    if "/" in raw:
        start, _, end = raw.partition("/")
        interval = (_date(start), _date(end))
        if interval[0] and interval[1] and interval[0] > interval[1]:
            raise InvalidParameter("datetime: the interval ends before it starts")
        return interval
    day = _date(raw)
    if day is None:
        raise InvalidParameter("datetime: an instant or an interval start/end")
    return day, day


def geometry_literal(crs: Crs):
    """A geometry literal's SQL in the stored CRS, from GeoJSON or a box given in ``crs``."""

    def literal(*, bind, geojson: str | None = None, box: tuple | None = None) -> sql.Composable:
        if box is not None:
            x1, y1, x2, y2 = (box[1], box[0], box[3], box[2]) if crs.lat_first else box
            shape = sql.compose(
                "ST_MakeEnvelope({x1}, {y1}, {x2}, {y2}, {srid})",
                x1=bind(float(x1)),
                y1=bind(float(y1)),
                x2=bind(float(x2)),
                y2=bind(float(y2)),
                srid=sql.Literal(crs.srid),
            )
        else:
            shape = sql.compose(
                "ST_SetSRID(ST_GeomFromGeoJSON({g}), {srid})", g=bind(geojson), srid=sql.Literal(crs.srid)
            )
            if crs.lat_first:
                shape = sql.compose("ST_FlipCoordinates({shape})", shape=shape)
        if crs.srid != WGS84:
            shape = sql.compose("ST_Transform({shape}, {wgs84})", shape=shape, wgs84=sql.Literal(WGS84))
        return shape

    return literal


@dataclass
class ItemsQuery:
    """What selects a collection's features: the parts of the WHERE clause and their values."""

    collection: Collection
    crs: Crs
    source: sql.Composable
    where: list
    params: dict
    simplify_m: float = 0  # a vendor parameter: geometry simplified to about this tolerance, metres

    def column(self, name: str) -> sql.Composable:
        return sql.Identifier("t", "geom" if name == GEOMETRY else name)


def items_query(
    collection: Collection,
    *,
    crs: Crs,
    bbox: tuple | None = None,
    bbox_crs: Crs | None = None,
    dates: tuple | None = None,
    cql=None,
    filter_crs: Crs | None = None,
    equals: dict | None = None,
    simplify_m: float = 0,
    today: datetime.date,
) -> ItemsQuery:
    """The selection of a request: ``bbox`` (in ``bbox_crs``), ``dates`` on the collection's date
    property, a parsed CQL2 filter (geometries in ``filter_crs``) and property=value pairs."""
    if dates is not None and collection.versions is not None:
        collection = collection.versions
        _dates_in_history(dates)
    source, params = collection.source(today=today)
    if collection.geometry_type == "Point":
        simplify_m = 0  # a point has nothing to simplify (and the same answer has one cache key)
    query = ItemsQuery(
        collection=collection, crs=crs, source=source, where=[], params=dict(params), simplify_m=simplify_m
    )
    counter = iter(range(10**6))

    def bind(value):
        name = f"q{next(counter)}"
        query.params[name] = value
        return sql.Placeholder(name)

    if bbox is not None:
        box = geometry_literal(bbox_crs or CRSS[CRS84])(bind=bind, box=bbox)
        query.where.append(sql.compose("(t.geom && {box} AND ST_Intersects(t.geom, {box}))", box=box))
    if dates is not None and collection.validity is not None:
        # In force at some time in [start, end]: began on or before the end, ended after the start.
        valid_from, valid_to = (query.column(name) for name in collection.validity)
        start, end = dates
        if end:
            query.where.append(sql.compose("({c} IS NULL OR {c} <= {end})", c=valid_from, end=bind(end)))
        if start:
            query.where.append(sql.compose("({c} IS NULL OR {c} > {start})", c=valid_to, start=bind(start)))
    elif dates is not None:
        if collection.date_property is None:
            raise InvalidParameter(f"datetime: collection {collection.id!r} has no dates")
        column = query.column(collection.date_property)
        start, end = dates
        if start:
            query.where.append(sql.compose("{c} >= {start}", c=column, start=bind(start)))
        if end:
            query.where.append(sql.compose("{c} <= {end}", c=column, end=bind(end)))
    for name, value in (equals or {}).items():
        query.where.append(sql.compose("{c}::text = {v}", c=query.column(name), v=bind(value)))
    if cql is not None:
        fragment, cql_params = filter_sql(
            cql, column=query.column, types=collection.types, geometry_sql=geometry_literal(filter_crs or CRSS[CRS84])
        )
        query.where.append(fragment)
        query.params.update(cql_params)
    return query


def _dates_in_history(dates: tuple) -> None:
    """A ``datetime`` on divisions must reach the imported lists: an instant from the earliest list
    on, an interval ending on or after it; InvalidParameter names the valid range otherwise."""
    history = division_history_range()
    if history is None:
        raise InvalidParameter("datetime: no division history is loaded")
    start, end = dates
    if (end or start or history[0]) < history[0]:
        raise InvalidParameter(f"datetime: {end or start} is out of range; valid: from {history[0]} on")


def _where(query: ItemsQuery) -> sql.Composable:
    return sql.join(query.where, " AND ") if query.where else sql.SQL("TRUE")


def _feature_sql(query: ItemsQuery) -> sql.Composed:
    """The text of one feature: id, geometry (in the CRS asked for) and properties, in SQL."""
    crs = query.crs
    geometry = sql.SQL("t.geom")
    if query.simplify_m > 0:
        # A multi-part geometry stays multi-part (PostGIS answers a Polygon when the other parts collapse).
        geometry = sql.compose(
            "CASE WHEN GeometryType({g}) LIKE 'MULTI%%' THEN ST_Multi(ST_SimplifyPreserveTopology({g}, {tolerance}))"
            " ELSE ST_SimplifyPreserveTopology({g}, {tolerance}) END",
            g=geometry,
            tolerance=sql.Literal(query.simplify_m / METRES_PER_DEGREE),
        )
    if crs.srid != WGS84:
        geometry = sql.compose("ST_Transform({g}, {srid})", g=geometry, srid=sql.Literal(crs.srid))
    if crs.lat_first:
        geometry = sql.compose("ST_FlipCoordinates({g})", g=geometry)
    return sql.geojson_feature(
        id=sql.SQL("t.fid"),
        geometry=geometry,
        properties=[(p.name, sql.Identifier("t", p.name)) for p in query.collection.properties],
        precision=crs.precision,
    )


def items_count(query: ItemsQuery) -> int:
    """How many features the selection matches (numberMatched)."""
    found = sql.row(
        sql.compose("SELECT count(*) AS n FROM ({source}) t WHERE {where}", source=query.source, where=_where(query)),
        query.params,
    )
    return found["n"]


def items_page_sql(query: ItemsQuery, *, limit: int | None, offset: int) -> sql.Composed:
    """The SELECT of one page's feature texts, in the collection's order (``limit`` None: to the
    last). The page is chosen first, then only its features are written (rows skipped by
    ``offset`` are never rendered)."""
    return sql.compose(
        "SELECT {feature} FROM (SELECT * FROM ({source}) t WHERE {where} ORDER BY {order}, t.fid"
        " LIMIT {limit} OFFSET {offset}) t ORDER BY {order}, t.fid",
        feature=_feature_sql(query),
        source=query.source,
        where=_where(query),
        order=sql.Identifier("t", query.collection.order),
        limit=sql.Literal(limit),
        offset=sql.Literal(offset),
    )


def items_table_sql(query: ItemsQuery) -> sql.Composed:
    """The whole selection as a table (the properties as columns, then ``geom``), for a file."""
    columns = [sql.Identifier("t", p.name) for p in query.collection.properties] + [sql.SQL("t.geom")]
    return sql.compose(
        "SELECT {columns} FROM ({source}) t WHERE {where} ORDER BY {order}, t.fid",
        columns=sql.join(columns, ", "),
        source=query.source,
        where=_where(query),
        order=sql.Identifier("t", query.collection.order),
    )


def items_state(query: ItemsQuery) -> str | None:
    """A name of what a selection answers: its SQL with its values (today's date included where a
    property depends on it) and the committed state of the tables it reads. Equal names, equal
    features. None: no such name (a collection computed per request, an untracked table, or this
    transaction's own uncommitted writes)."""
    version = tables_version(query.collection.tables)
    if version is None:
        return None
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        text = cursor.mogrify(items_page_sql(query, limit=None, offset=0), query.params)
    return hashlib.sha256(text + b"\0" + version.encode()).hexdigest()[:32]


def items_stream(query: ItemsQuery, *, limit: int | None, offset: int) -> Iterator[str]:
    """The features of one page as GeoJSON texts, in the collection's order, read as they come."""
    page = items_page_sql(query, limit=limit, offset=offset)
    return sql.stream(page, query.params, local_settings=PAGE_SETTINGS)


def item_get(query: ItemsQuery, *, fid: str) -> str:
    """One feature's GeoJSON text by id; NotFound if the collection has none."""
    found = sql.row(
        sql.compose(
            "SELECT {feature} AS feature FROM ({source}) t WHERE t.fid::text = %(fid)s",
            feature=_feature_sql(query),
            source=query.source,
        ),
        {**query.params, "fid": fid},
    )
    if found is None:
        raise NotFound(f"no feature {fid!r} in collection {query.collection.id!r}")
    return found["feature"]


def collection_extent(query: ItemsQuery) -> list[float] | None:
    """The bounding box of a whole collection in CRS84 (lon/lat), or None when it is empty."""
    found = sql.row(
        sql.compose(
            "SELECT ST_XMin(e) AS x1, ST_YMin(e) AS y1, ST_XMax(e) AS x2, ST_YMax(e) AS y2"
            " FROM (SELECT ST_Extent(t.geom) AS e FROM ({source}) t) x",
            source=query.source,
        ),
        query.params,
    )
    if found is None or found["x1"] is None:
        return None
    return [round(found[k], 6) for k in ("x1", "y1", "x2", "y2")]
