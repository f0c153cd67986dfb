"""Batch locate: a CSV (id, x, y) or GeoJSON of points in a stated datum (WGS84, CGCS2000 or
GCJ-02; never guessed) in, the same rows out with the municipality, cluster, district, township and
village/community codes and names added (``boundaries.selectors.division_locate_batch``), as CSV
or GeoJSON. A row outside Chongqing is kept and marked (``in_chongqing`` false); a bad row (no
number, a feature that is not a point) rejects the file with the line or feature numbers. Size
and count limits: ``LOCATE_BATCH_LIMITS`` in the settings (over them: 413)."""

import csv
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from boundaries.selectors import LOCATE_BATCH_FIELDS, division_locate_batch
from gis_portal.core.errors import InvalidData, InvalidParameter, PayloadTooLarge
from gis_portal.core.geo import SOURCE_DATUMS, to_wgs84_arrays

FORMATS = ("csv", "geojson")
ADDED_FIELDS = ("in_chongqing", *LOCATE_BATCH_FIELDS)


@dataclass
class BatchInput:
    format: str
    lon: np.ndarray
    lat: np.ndarray
    header: list[str] = field(default_factory=list)  # CSV: the file's columns
    rows: list = field(default_factory=list)  # CSV: the rows as read; GeoJSON: the features


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
            return BatchInput("csv", xs, ys, header=header, rows=rows)
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
    """Each row's added columns as CSV text, rendered once per distinct answer (most points share
    their village with many others)."""
    rendered: dict[tuple | None, str] = {}

    def render(answer: tuple | None) -> str:
        out = io.StringIO()
        values = (
            ["false", *("",) * len(LOCATE_BATCH_FIELDS)] if answer is None else ["true", *(v or "" for v in answer)]
        )
        csv.writer(out, lineterminator="").writerow(values)
        return out.getvalue()

    return [rendered[a] if a in rendered else rendered.setdefault(a, render(a)) for a in answers]


def locate_batch_csv(batch: BatchInput, answers: list[tuple | None]) -> str:
    """The rows as read (CSV) or the features' id and coordinates (GeoJSON), with the divisions."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="")
    suffixes = _suffixes(answers)
    if batch.format == "csv":
        writer.writerow([*batch.header, *ADDED_FIELDS])
        heads = batch.rows
    else:
        writer.writerow(["id", "x", "y", *ADDED_FIELDS])
        heads = [
            [feature.get("id", ""), repr(x), repr(y)]
            for feature, x, y in zip(batch.rows, batch.lon.tolist(), batch.lat.tolist(), strict=True)
        ]
    lines = io.StringIO()
    csv.writer(lines, lineterminator="\n").writerows(heads)
    parts = lines.getvalue().split("\n")
    if len(parts) == len(heads) + 1:  # no field spans lines: each row's text, then its suffix
        body = "".join(f"\n{head},{suffix}" for head, suffix in zip(parts[:-1], suffixes, strict=True))
    else:
        rest = io.StringIO()
        for head, suffix in zip(heads, suffixes, strict=True):
            rest.write("\n")
            writer_of_rest = csv.writer(rest, lineterminator="")
            writer_of_rest.writerow(head)
            rest.write("," + suffix)
        body = rest.getvalue()
    return "\ufeff" + out.getvalue() + body + "\n"  # the BOM: spreadsheet programs read the Chinese


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
