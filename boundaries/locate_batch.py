"""Batch locate: a CSV (id, x, y) or GeoJSON of points in a stated datum (WGS84, CGCS2000 or
GCJ-02; never guessed) in, the same rows out with the municipality, cluster, district, township and
village/community codes and names added (``division_locate_batch``, one SQL pass), as CSV
or GeoJSON. A row outside Chongqing is kept and marked (``in_chongqing`` false); a bad row (no
number, a feature that is not a point) rejects the file with the line or feature numbers. Size
and count limits: ``LOCATE_BATCH_LIMITS`` in the settings (over them: 413)."""

import csv
import gc
import io
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from boundaries.models import (
    Cluster,
    Division,
    DivisionPiece,
)
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData, InvalidParameter, PayloadTooLarge
from gis_portal.core.geo import SOURCE_DATUMS, to_wgs84_arrays

LOCATE_BATCH_FIELDS = (
    "municipality_code", "municipality_name", "cluster_code", "cluster_name", "district_code", "district_name",
    "township_code", "township_name", "village_code", "village_name",
)  # fmt: skip
FORMATS = ("csv", "geojson")
ADDED_FIELDS = ("in_chongqing", *LOCATE_BATCH_FIELDS)


@dataclass
class BatchInput:
    format: str
    lon: np.ndarray
    lat: np.ndarray
    header: list[str] = field(default_factory=list)  # CSV: the file's columns
    rows: list = field(default_factory=list)  # CSV: the rows as read; GeoJSON: the features
    lines: list[str] | None = None  # CSV: each row's text as sent, when no field is quoted


def _too_many(count: int) -> None:
    limit = settings.LOCATE_BATCH_LIMITS["max_points"]
    if count > limit:
        raise PayloadTooLarge(f"the file has more than {limit:,} points; split it")


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _read_csv(name: str, text: str) -> BatchInput:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InvalidData(f"{name}: the file is empty")
    columns = [c.strip().lower() for c in header]
    missing = [c for c in ("id", "x", "y") if c not in columns]
    if missing:
        raise InvalidData(f"{name}: missing column(s) {', '.join(missing)} (x is the longitude, y the latitude)")
    ix, iy = columns.index("x"), columns.index("y")
    rows = [row for row in reader if row]
    _too_many(len(rows))
    try:  # every row good: converted at C speed
        xs = np.array([row[ix] for row in rows], dtype=float)
        ys = np.array([row[iy] for row in rows], dtype=float)
        if np.isfinite(xs).all() and np.isfinite(ys).all():
            return BatchInput("csv", xs, ys, header=header, rows=rows, lines=_row_lines(text, len(rows)))
    except (ValueError, IndexError):
        pass
    # Some row is bad: read again, row by row, for the line numbers.
    reader = csv.reader(io.StringIO(text))
    next(reader)
    errors = []
    for row in reader:
        if not row:
            continue
        x = _number(row[ix]) if len(row) > ix else None
        y = _number(row[iy]) if len(row) > iy else None
        if x is None or y is None:
            raw_x, raw_y = (row[i] if len(row) > i else "" for i in (ix, iy))
            errors.append(f"line {reader.line_num}: x, y {raw_x!r}, {raw_y!r} are not numbers")
    raise InvalidData.from_lines(name, errors, what="row")


def _row_lines(text: str, count: int) -> list[str] | None:
    """The text of each row after the header, as sent (written back as is, the added columns
    appended), when no field is quoted: then a row is a line."""
    if '"' in text:
        return None
    lines = [line.removesuffix("\r") for line in text.split("\n")[1:]]
    lines = [line for line in lines if line]
    return lines if len(lines) == count else None


def _read_geojson(name: str, text: str) -> BatchInput:
    try:
        features = json.loads(text)["features"]
        if not isinstance(features, list):
            raise TypeError("features is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidData(f"{name}: not a GeoJSON FeatureCollection ({exc})") from None
    _too_many(len(features))
    xs, ys, errors = [], [], []
    for number, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) and geometry.get("type") == "Point" else None
        x = _number(coords[0]) if isinstance(coords, list) and len(coords) >= 2 else None
        y = _number(coords[1]) if x is not None else None
        if y is None:
            errors.append(f"feature {number}: not a Point with two numbers")
            continue
        xs.append(x)
        ys.append(y)
    if errors:
        raise InvalidData.from_lines(name, errors, what="feature")
    return BatchInput("geojson", np.array(xs, dtype=float), np.array(ys, dtype=float), rows=features)


def locate_batch_read(*, name: str, data: bytes) -> BatchInput:
    """The points of an uploaded file (``name`` tells the format: .csv, .geojson or .json)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidData(f"{name}: not UTF-8 text") from None
    lower = name.lower()
    if lower.endswith(".csv"):
        return _read_csv(name, text)
    if lower.endswith((".geojson", ".json")):
        return _read_geojson(name, text)
    raise InvalidData(f"{name}: use a .csv (id, x, y) or a .geojson file")


def locate_batch(*, batch: BatchInput, datum: str) -> list[tuple | None]:
    """Each point's divisions (None outside Chongqing), its coordinates read in ``datum``."""
    if datum not in SOURCE_DATUMS:
        raise InvalidParameter(f"datum {datum!r} is not one of {', '.join(SOURCE_DATUMS)}")
    lon, lat = to_wgs84_arrays(batch.lon, batch.lat, datum=datum)
    return division_locate_batch(lon=lon, lat=lat)


def _suffixes(answers: list[tuple | None]) -> list[str]:
    """Each row's added columns as CSV text, rendered once per distinct answer: the points of a
    village share one answer tuple (``division_locate_batch``), so answers are told apart by identity."""
    rendered: dict[int, str] = {}

    def render(answer: tuple | None) -> str:
        values = (
            ["false", *("",) * len(LOCATE_BATCH_FIELDS)] if answer is None else ["true", *(v or "" for v in answer)]
        )
        return rendered.setdefault(id(answer), _csv_records([values])[0])

    return [rendered.get(id(a)) or render(a) for a in answers]


def _csv_records(rows: list[list]) -> list[str]:
    """Each row as one CSV record without its line end. "\r\n" ends records so that a field
    holding a line break is quoted; the rows are written at once, and one by one only when a
    quoted field itself holds "\r\n" (then the text cannot be split back into records)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    records = out.getvalue().split("\r\n")[:-1]
    if len(records) == len(rows):
        return records
    records = []
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow(row)
        records.append(out.getvalue()[:-2])
    return records


def locate_batch_csv(batch: BatchInput, answers: list[tuple | None]) -> str:
    """The rows as sent (CSV) or the features' id and coordinates (GeoJSON), with the divisions;
    with a BOM, so that spreadsheet programs read the Chinese."""
    if batch.format == "csv":
        header = [*batch.header, *ADDED_FIELDS]
        heads = batch.lines if batch.lines is not None else _csv_records(batch.rows)
    else:
        header = ["id", "x", "y", *ADDED_FIELDS]
        heads = _csv_records(
            [
                [feature.get("id", ""), repr(x), repr(y)]
                for feature, x, y in zip(batch.rows, batch.lon.tolist(), batch.lat.tolist(), strict=True)
            ]
        )
    body = "".join(f"\n{head},{suffix}" for head, suffix in zip(heads, _suffixes(answers), strict=True))
    return "\ufeff" + _csv_records([header])[0] + body + "\n"


def locate_batch_geojson(batch: BatchInput, answers: list[tuple | None]) -> str:
    """A FeatureCollection: the input's features (or the CSV's rows as points, their columns as
    properties) with the divisions added to the properties; geometry as given, in the stated datum."""
    features = []
    if batch.format == "geojson":
        for feature, answer in zip(batch.rows, answers, strict=True):
            props = dict(feature.get("properties") or {})
            props.update(_added(answer))
            features.append({**feature, "properties": props})
    else:
        for row, x, y, answer in zip(batch.rows, batch.lon.tolist(), batch.lat.tolist(), answers, strict=True):
            props = dict(zip(batch.header, row, strict=False))
            props.update(_added(answer))
            features.append(
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props}
            )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _added(answer: tuple | None) -> dict:
    if answer is None:
        return {"in_chongqing": False} | dict.fromkeys(LOCATE_BATCH_FIELDS)
    return {"in_chongqing": True} | dict(zip(LOCATE_BATCH_FIELDS, answer, strict=True))


@contextmanager
def _gc_paused():
    """The cyclic garbage collector off for one batch: reading 100,000 rows makes hundreds of
    thousands of small objects, and the collections that triggers (each walking all of them) cost
    a fifth of the batch; the batch makes no cycles, and what it made is freed by reference counts."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def locate_batch_file(*, name: str, data: bytes, datum: str, output: str | None) -> tuple[str, str]:
    """An uploaded file located whole: its text in ``output`` format (default: the input's), and
    that format's name (csv or geojson)."""
    with _gc_paused():
        batch = locate_batch_read(name=name, data=data)
        answers = locate_batch(batch=batch, datum=datum)
        output = output or batch.format
        body = locate_batch_csv(batch, answers) if output == "csv" else locate_batch_geojson(batch, answers)
    return body, output


# --- batch locate ---------------------------------------------------------------------------------

# Each point's municipality and township (on a shared edge, or a cut between two pieces, the lower
# code), in one pass: the pieces are the outer side and probe the points' GiST index, so each piece
# tests all the points in its box in a row (PostGIS prepares the piece's polygon once). Townships
# tile their district, so the district is the township's (the district pieces, tested only for a
# point in the municipality but in no township, answered the same for 100,000 random points).
LOCATE_BATCH_SQL = """
SELECT pts.n,
       min(d.code) FILTER (WHERE p.level = 'municipality') AS municipality,
       min(d.code) FILTER (WHERE p.level = 'township') AS township
  FROM {piece} p JOIN pg_temp.locate_batch pts ON ST_Covers(p.geom, pts.g)
  JOIN {division} d ON d.id = p.division_id
 WHERE p.level IN ('municipality', 'township')
 GROUP BY pts.n
"""
LOCATE_BATCH_DISTRICT_SQL = """
SELECT pts.n, min(d.code) AS district
  FROM pg_temp.locate_batch pts JOIN {piece} p ON ST_Covers(p.geom, pts.g) JOIN {division} d ON d.id = p.division_id
 WHERE p.level = 'district' AND pts.n = ANY(%(ns)s)
 GROUP BY pts.n
"""
LOCATE_BATCH_DIVISIONS_SQL = """
SELECT d.id, d.code, d.name, d.level, d.parent_id, d.cluster_id, c.name AS cluster_name,
       ST_X(d.point) AS lon, ST_Y(d.point) AS lat
  FROM {division} d LEFT JOIN {cluster} c ON c.slug = d.cluster_id
 WHERE d.level IN ('municipality', 'district', 'township') OR (d.level = 'village' AND d.point IS NOT NULL)
"""
# A row of the binary COPY: field count, then each field's length and value (big-endian); the point
# is sent as EWKB (little-endian point with an SRID), which PostGIS's binary input reads as is.
COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("n_len", ">i4"),
        ("n", ">i4"),
        ("g_len", ">i4"),
        ("g_order", "u1"),
        ("g_type", "<u4"),
        ("g_srid", "<u4"),
        ("lon", "<f8"),
        ("lat", "<f8"),
    ]
)
EWKB_POINT_WITH_SRID = 0x20000001
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def division_locate_batch(*, lon: np.ndarray, lat: np.ndarray) -> list[tuple | None]:
    """``division_locate`` for many WGS84 points at once: for each, a tuple of
    LOCATE_BATCH_FIELDS, or None when the point is outside Chongqing (rows stay in order).

    The points are COPYed into a temporary table with a GiST index and joined to the division
    pieces in one SQL pass (same rule as ``division_locate``: ST_Covers, the lower code on a shared
    edge). The village/community is the nearest of the township's by the same planar order as
    ``division_locate``'s KNN, computed with numpy on the few villages of each township: a KNN
    query per point costs about 40 µs, four seconds for 100,000 points."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    count = len(lon)
    if count == 0:
        return []
    # COPY in PostgreSQL's binary format, built by numpy: no per-point Python.
    rows = np.empty(count, dtype=COPY_ROW)
    rows["fields"], rows["n_len"], rows["n"] = 2, 4, np.arange(count)
    rows["g_len"], rows["g_order"], rows["g_type"], rows["g_srid"] = 25, 1, EWKB_POINT_WITH_SRID, WGS84
    rows["lon"], rows["lat"] = lon, lat
    data = io.BytesIO(COPY_HEADER + rows.tobytes() + COPY_TRAILER)
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropped at the end too: inside an outer transaction ON COMMIT comes later. No ANALYZE: the
        # plan (pieces outer, the points' index inner) is the same without statistics, 150 ms sooner.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.locate_batch")
        cursor.execute("CREATE TEMP TABLE locate_batch (n integer, g geometry(Point, %s)) ON COMMIT DROP", [WGS84])
        cursor.cursor.copy_expert("COPY pg_temp.locate_batch (n, g) FROM STDIN WITH (FORMAT binary)", data)
        cursor.execute("CREATE INDEX ON pg_temp.locate_batch USING gist (g)")
        cursor.execute("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql.compose(LOCATE_BATCH_SQL, piece=DivisionPiece, division=Division))
        hits = cursor.fetchall()
        no_township = [n for n, municipality, township in hits if municipality is not None and township is None]
        districts_of = {}
        if no_township:
            cursor.execute(
                sql.compose(LOCATE_BATCH_DISTRICT_SQL, piece=DivisionPiece, division=Division), {"ns": no_township}
            )
            districts_of = dict(cursor.fetchall())
        cursor.execute("DROP TABLE pg_temp.locate_batch")
    divisions = sql.rows(sql.compose(LOCATE_BATCH_DIVISIONS_SQL, division=Division, cluster=Cluster))
    by_code = {d["code"]: d for d in divisions if d["level"] != "village"}
    by_id = {d["id"]: d for d in divisions if d["level"] != "village"}
    township_index = {d["id"]: i for i, d in enumerate(d for d in divisions if d["level"] == "township")}
    answers: list[tuple | None] = [None] * count
    township_of = np.full(count, -1)
    prefixes: dict[tuple, tuple] = {}  # one shared tuple per (municipality, township, district)
    no_village = (None, None)
    for n, municipality, township in hits:
        if municipality is None:
            continue
        key = (municipality, township, districts_of.get(n))
        prefix = prefixes.get(key)
        if prefix is None:
            m, t = by_code[municipality], by_code.get(township)
            d = by_id.get(t["parent_id"]) if t is not None else by_code.get(key[2])
            prefix = prefixes[key] = (
                m["code"], m["name"],
                d and d["cluster_id"], d and d["cluster_name"],
                d and d["code"], d and d["name"],
                t and t["code"], t and t["name"],
                *no_village,
            )  # fmt: skip
        answers[n] = prefix
        if township is not None:
            township_of[n] = township_index[by_code[township]["id"]]
    # The nearest village of each point's township (planar, as ``<->``), township by township.
    villages = [d for d in divisions if d["level"] == "village" and d["parent_id"] in township_index]
    villages.sort(key=lambda v: (township_index[v["parent_id"]], v["code"]))
    v_township = np.array([township_index[v["parent_id"]] for v in villages], dtype=int)
    v_xy = np.array([(v["lon"], v["lat"]) for v in villages], dtype=float).reshape(-1, 2)
    starts = np.searchsorted(v_township, np.arange(len(township_index) + 1))
    located = np.flatnonzero(township_of >= 0)
    order = located[np.argsort(township_of[located], kind="stable")]
    bounds = np.searchsorted(township_of[order], np.arange(len(township_index) + 1))
    for t in np.flatnonzero(np.diff(bounds)):
        first, last = starts[t], starts[t + 1]
        if first == last:
            continue
        members = order[bounds[t] : bounds[t + 1]]
        dx = lon[members, None] - v_xy[None, first:last, 0]
        dy = lat[members, None] - v_xy[None, first:last, 1]
        nearest = first + np.argmin(dx * dx + dy * dy, axis=1)
        # One tuple per village, shared by its points (the writers render each distinct answer once).
        prefix = answers[members[0]][:8]
        located_in = [(*prefix, v["code"], v["name"]) for v in villages[first:last]]
        for n, v in zip(members.tolist(), (nearest - first).tolist(), strict=True):
            answers[n] = located_in[v]
    return answers
