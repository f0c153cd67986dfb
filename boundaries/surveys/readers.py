"""What is checked or read before (or instead of) GDAL, inside the sandbox child: XML with a DTD is
refused; a GeoJSON ``crs`` must name an accepted EPSG code (a link, a URL or a file is refused) and
is removed before GDAL reads the file; a GeoPackage may hold feature tables and attribute tables
(skipped) but no views, virtual tables other than its R-tree index, or tiles; CSV is read here, row
by row, stopping at the feature limit plus one.

Every function raises ``Refused`` with a reason a surveyor can act on.
"""

import csv
import io
import json
import re
import sqlite3
import xml.sax
import xml.sax.handler
from pathlib import Path

import defusedxml
import defusedxml.sax
import shapely

from gis_portal.core.crs import SURVEY_CRS, WGS84

NUMBER_FIELDS = ("number", "marker", "marker_number", "编号", "界桩编号", "桩号", "name")
X_FIELDS = ("x", "lon", "lng", "longitude", "easting", "经度", "东坐标")
Y_FIELDS = ("y", "lat", "latitude", "northing", "纬度", "北坐标")
CRS_FIELDS = ("crs", "epsg", "srid", "坐标系")
CSV_FIELD_LIMIT = 128 * 1024  # characters in one CSV field (the csv module's own default)
# The names a GeoJSON crs may have (GeoJSON 2008 "name" CRS, OGC URNs and URIs); the code must be
# one of the survey CRSs. Anything else, links above all, is refused before GDAL sees the file.
CRS_NAME_PATTERNS = [
    re.compile(r"^EPSG:(\d{4,5})$", re.IGNORECASE),
    re.compile(r"^urn:ogc:def:crs:EPSG:[0-9.]*:(\d{4,5})$", re.IGNORECASE),
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d{4,5})$", re.IGNORECASE),
]
CRS84_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "ogc:crs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84",
    "https://www.opengis.net/def/crs/ogc/1.3/crs84",
}
GPKG_DATA_TYPES = {"features": "read", "attributes": "skip"}


class Refused(Exception):
    """The file cannot be accepted; the message says why."""


def refuse_dangerous_xml(data: bytes) -> None:
    """Refuse XML with a DTD (entity expansion, external entities) or that is malformed, before GDAL
    reads it: one streaming pass of defusedxml's SAX parser, which builds no tree."""
    try:
        defusedxml.sax.parseString(data, xml.sax.handler.ContentHandler(), forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise Refused("XML with a DTD or entities is not accepted (entity expansion / external entities)") from exc
    except xml.sax.SAXException as exc:
        raise Refused(f"the XML is malformed or truncated ({exc})") from exc


def _epsg_of_crs_member(crs: object) -> int:
    refusal = (
        "the GeoJSON's crs must name an accepted EPSG code (e.g. urn:ogc:def:crs:EPSG::4490 or "
        "EPSG:4545); links, URLs and other CRS definitions are not accepted"
    )
    if not isinstance(crs, dict) or not isinstance(crs.get("properties"), dict):
        raise Refused(refusal)
    kind, properties = crs.get("type"), crs["properties"]
    if kind == "EPSG" and isinstance(properties.get("code"), int | str):
        code = int(properties["code"]) if str(properties["code"]).isdigit() else None
    elif kind == "name" and isinstance(properties.get("name"), str):
        name = properties["name"].strip()
        matches = [m for m in (p.match(name) for p in CRS_NAME_PATTERNS) if m]
        code = WGS84 if name.lower() in CRS84_NAMES else int(matches[0].group(1)) if matches else None
    else:
        code = None
    if code not in SURVEY_CRS:
        raise Refused(refusal)
    return code


def geojson_without_crs(data: bytes) -> tuple[int | None, bytes]:
    """The EPSG code a (legacy) GeoJSON states, or None (RFC 7946: WGS84), and the bytes GDAL is to
    read: with the ``crs`` member removed. A ``crs`` anywhere else (on a feature or a geometry, which
    GDAL also follows) is refused."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Refused(f"the GeoJSON is malformed or truncated ({str(exc)[:120]})") from exc
    if not isinstance(document, dict):
        raise Refused("the GeoJSON is not an object")
    stack = [v for k, v in document.items() if k in ("features", "geometry", "geometries")]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(i for i in item if isinstance(i, dict | list))
        elif isinstance(item, dict):
            if "crs" in item:
                raise Refused("a crs on a feature or geometry is not accepted: state it once, for the whole file")
            stack.extend(v for k, v in item.items() if k in ("features", "geometry", "geometries"))
    if "crs" not in document:
        return None, data
    epsg = _epsg_of_crs_member(document.pop("crs"))
    return epsg, json.dumps(document, ensure_ascii=False).encode()


def geopackage_feature_tables(path: Path, *, max_layers: int) -> list[str]:
    """The feature tables of a GeoPackage, read with SQLite (read-only, nothing executed but
    catalogue queries). Views (a view is a query GDAL would run: a recursive one never ends),
    virtual tables other than the R-tree spatial index, and tiles or other non-feature contents
    are refused; attribute tables are skipped."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as db:
            db.execute("PRAGMA trusted_schema = OFF")
            schema = db.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master").fetchall()
            tables = {name for kind, name, _ in schema if kind == "table"}
            if "gpkg_contents" not in tables:
                raise Refused("the file is not a GeoPackage (no gpkg_contents table)")
            contents = db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall()
    except sqlite3.DatabaseError as exc:
        raise Refused(f"the GeoPackage cannot be read ({str(exc)[:120]})") from exc
    views = sorted(name for kind, name, _ in schema if kind == "view")
    if views:
        raise Refused(f"GeoPackage views are not accepted ({', '.join(views[:5])}): export the features as tables")
    virtual = [
        name for kind, name, sql in schema if re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE", sql, re.IGNORECASE)
        and not re.search(r"\bUSING\s+rtree\s*\(", sql, re.IGNORECASE)
    ]  # fmt: skip
    if virtual:
        raise Refused(f"GeoPackage virtual tables are not accepted ({', '.join(virtual[:5])})")
    other = sorted(f"{name} ({kind})" for name, kind in contents if GPKG_DATA_TYPES.get(kind) is None)
    if other:
        raise Refused(f"the GeoPackage holds contents other than features: {', '.join(other[:5])}")
    features = [name for name, kind in contents if GPKG_DATA_TYPES[kind] == "read"]
    if len(features) > max_layers:
        raise Refused(f"the GeoPackage has {len(features):,} feature tables; the limit is {max_layers:,}")
    missing = [name for name in features if name not in tables]
    if missing:
        raise Refused(f"the GeoPackage lists tables it does not hold: {', '.join(missing[:5])}")
    return features


def number_of(attributes: dict) -> str:
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    for key in NUMBER_FIELDS:
        value = lowered.get(key)
        if value not in (None, "") and not (isinstance(value, float) and value != value):
            return str(value).strip()
    return ""


def read_csv(data: bytes, *, encoding: str | None, max_features: int) -> tuple[list, list, str | None]:
    """Markers from a CSV (number, x, y and an optional CRS column), read row by row: stops at the
    first row over ``max_features``. Returns geometries, attributes and ``EPSG:<code>`` or None."""
    try:
        text = data.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError):
        raise Refused("the CSV is not UTF-8: save it as UTF-8 or choose its encoding in the form") from None
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(io.StringIO(text))
    geometries, attributes, crs_values = [], [], set()
    try:
        header = {name.strip().lower(): name for name in reader.fieldnames or [] if name}

        def column(candidates: tuple[str, ...], label: str) -> str | None:
            found = next((header[c] for c in candidates if c in header), None)
            if found is None and label:
                raise Refused(f"the CSV has no {label} column (one of {', '.join(candidates)})")
            return found

        if not header:
            raise Refused("the CSV has no rows")
        number_column = column(NUMBER_FIELDS, "marker number")
        x_column, y_column = column(X_FIELDS, "x"), column(Y_FIELDS, "y")
        crs_column = column(CRS_FIELDS, "")
        for row in reader:
            line = reader.line_num
            if len(geometries) >= max_features:
                raise Refused(f"the file has more than {max_features:,} features; the limit is {max_features:,}")
            if None in row.values():
                raise Refused(f"CSV line {line} has fewer fields than the header ({len(header)})")
            if crs_column:
                crs_values.add((row.get(crs_column) or "").strip())
                if len(crs_values) > 1:
                    raise Refused(f"the CSV mixes CRSs ({', '.join(sorted(crs_values))}); send one CRS per file")
            try:
                x, y = float(row[x_column]), float(row[y_column])
            except (TypeError, ValueError):
                raise Refused(f"CSV line {line}: x and y must be numbers") from None
            geometries.append(shapely.Point(x, y))
            extra = {k: v for k, v in row.items() if k and v is not None}
            extra = {k: v for k, v in extra.items() if k not in (number_column, x_column, y_column, crs_column)}
            attributes.append({**extra, "number": (row.get(number_column) or "").strip(), "line": line})
    except csv.Error as exc:
        raise Refused(
            f"CSV line {reader.line_num + 1}: {exc} (a field may hold at most {CSV_FIELD_LIMIT:,} characters)"
        ) from None
    if not geometries:
        raise Refused("the CSV has no rows")
    crs = crs_values.pop() if crs_values else ""
    return geometries, attributes, (crs or None)
