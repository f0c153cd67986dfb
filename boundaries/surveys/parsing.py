"""Reading a survey team's field file: GPX, KML, GeoJSON, zipped Shapefile, GeoPackage or CSV.

Every upload is hostile until proven otherwise: size, archive and feature limits apply; XML with a
DTD (billion laughs, external entities) is refused before GDAL sees it; archive members must be
plain Shapefile parts with safe names; the coordinate reference system is read from the file or
taken from the form, checked against the coordinates, and never guessed. The result is a list of
features in WGS84 (EPSG:4326): tracks (lines) and markers (numbered points). Nothing here touches
the database.
"""

import csv
import io
import json
import math
import tempfile
import xml.sax
import xml.sax.handler
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import defusedxml
import defusedxml.sax
import numpy as np
import pyogrio
import shapely
from django.conf import settings
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gis_portal.core.crs import GEOGRAPHIC, GK_WITH_ZONE, SURVEY_CRS, WGS84, gauss_kruger_zone_range
from gis_portal.core.errors import InvalidData, PayloadTooLarge, UnsupportedMediaType
from gis_portal.core.region import REGION_BOUNDS

FORMATS = ("gpx", "kml", "geojson", "shapefile", "geopackage", "csv")
# Attribute encodings a user may state for a file that does not state its own.
ENCODINGS = ["UTF-8", "GBK", "GB18030", "BIG5"]
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml"}
NUMBER_FIELDS = ("number", "marker", "marker_number", "编号", "界桩编号", "桩号", "name")
X_FIELDS = ("x", "lon", "lng", "longitude", "easting", "经度", "东坐标")
Y_FIELDS = ("y", "lat", "latitude", "northing", "纬度", "北坐标")
CRS_FIELDS = ("crs", "epsg", "srid", "坐标系")
# dBASE language driver IDs that declare a Chinese code page.
DBF_LDID_GBK = {0x4D: "GBK", 0x7A: "GBK"}


class InvalidUpload(InvalidData):
    code = "invalid_upload"
    default_message = "The file cannot be accepted; nothing was stored."


class UploadTooLarge(InvalidUpload):
    status = PayloadTooLarge.status
    code = PayloadTooLarge.code


class UnsupportedFormat(InvalidUpload):
    status = UnsupportedMediaType.status
    code = UnsupportedMediaType.code


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_features: int = 10_000
    max_vertices: int = 1_000_000
    max_zip_members: int = 20
    max_zip_uncompressed: int = 100 * 1024 * 1024

    @classmethod
    def from_settings(cls) -> "UploadLimits":
        return cls(**getattr(settings, "SURVEY_UPLOAD_LIMITS", {}))


@dataclass
class ParsedFeature:
    kind: str  # "track" or "marker"
    geometry: shapely.Geometry  # EPSG:4326
    number: str = ""  # the marker number, for markers
    attributes: dict = field(default_factory=dict)


@dataclass
class ParsedFile:
    format: str
    crs: int  # EPSG code the coordinates were read in
    crs_source: str  # "file", "form" or "format" (GPX/KML/GeoJSON are WGS84 by definition)
    features: list[ParsedFeature]

    @property
    def vertex_count(self) -> int:
        return int(sum(shapely.get_num_coordinates(f.geometry) for f in self.features))


def survey_file_format(*, filename: str, data: bytes) -> str:
    """The format from the file's content, which must agree with its extension."""
    suffix = Path(filename).suffix.lower()
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"PK\x03\x04"):
        found = "shapefile"
    elif data.startswith(b"SQLite format 3\x00"):
        found = "geopackage"
    elif head.startswith(b"<"):
        lowered = data[:4096].lower()
        found = "gpx" if b"<gpx" in lowered else "kml" if b"<kml" in lowered else "xml"
    elif head.startswith(b"{"):
        found = "geojson"
    else:
        found = "csv"
    expected = {
        ".gpx": "gpx",
        ".kml": "kml",
        ".geojson": "geojson",
        ".json": "geojson",
        ".zip": "shapefile",
        ".gpkg": "geopackage",
        ".csv": "csv",
        ".txt": "csv",
    }.get(suffix)
    if expected is None:
        raise UnsupportedFormat(
            f"{filename}: unsupported file type {suffix or '(none)'}; send GPX, KML, GeoJSON, "
            "a zipped Shapefile, GeoPackage or CSV"
        )
    if found != expected:
        raise UnsupportedFormat(f"{filename}: the content is not {expected} (it looks like {found})")
    return found


def crs_from_form(value: str | int | None) -> int | None:
    """An EPSG code from the form (``4545``, ``EPSG:4545``) that must be one of the accepted CRSs."""
    if value in (None, ""):
        return None
    text = str(value).strip().upper().removeprefix("EPSG:")
    if not text.isdigit() or int(text) not in SURVEY_CRS:
        raise InvalidUpload(
            f"CRS {value!r} is not accepted: use EPSG:4326 (WGS84), EPSG:4490 (CGCS2000) or a CGCS2000 "
            "3-degree Gauss-Krüger zone (EPSG:4513-4533 with zone prefix, 4534-4554 without)"
        )
    return int(text)


def _epsg_of_file_crs(crs_text: str | None) -> int | None:
    if not crs_text:
        return None
    try:
        epsg = CRS.from_user_input(crs_text).to_epsg(min_confidence=70)
    except CRSError as exc:
        raise InvalidUpload(f"the file's CRS cannot be read ({exc})") from exc
    if epsg not in SURVEY_CRS:
        raise InvalidUpload(f"the file's CRS ({crs_text[:80]}) is not WGS84, CGCS2000 or CGCS2000 Gauss-Krüger")
    return epsg


def _resolve_crs(*, in_file: int | None, in_form: int | None, implied: int | None) -> tuple[int, str]:
    if in_file and in_form and in_file != in_form:
        raise InvalidUpload(f"the file says EPSG:{in_file} but the form says EPSG:{in_form}")
    if in_file:
        return in_file, "file"
    if implied and in_form and in_form != implied:
        raise InvalidUpload(f"this format is always EPSG:{implied}; the form says EPSG:{in_form}")
    if implied:
        return implied, "format"
    if in_form:
        return in_form, "form"
    raise InvalidUpload("the file does not state its CRS: choose it in the form (e.g. EPSG:4490 or EPSG:4545)")


def _check_coordinates(xy: np.ndarray, *, epsg: int) -> np.ndarray:
    """Reject coordinates that cannot be in ``epsg`` (never reinterpret them); return WGS84 lon/lat."""
    if not np.isfinite(xy).all():
        raise InvalidUpload("the file has NaN or infinite coordinates")
    x, y = xy[:, 0], xy[:, 1]
    if epsg in GEOGRAPHIC:
        if (np.abs(x) > 180).any() or (np.abs(y) > 90).any():
            if (np.abs(x) <= 90).all() and (np.abs(y) <= 180).all():
                raise InvalidUpload("latitude and longitude look swapped: x must be longitude, y latitude")
            raise InvalidUpload(f"coordinates out of range for EPSG:{epsg} (projected metres labelled as degrees?)")
        lonlat = xy
    else:
        low, high = gauss_kruger_zone_range(epsg)
        if not ((x > low) & (x < high)).all():
            if (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
                raise InvalidUpload(f"EPSG:{epsg} is in metres but the coordinates look like degrees")
            if ((y > low) & (y < high)).all():
                raise InvalidUpload("x and y look swapped: x must be the easting, y the northing")
            if epsg not in GK_WITH_ZONE and (x > 10_000_000).all():
                raise InvalidUpload(
                    f"the eastings carry a zone prefix but EPSG:{epsg} has none: "
                    "use the zone-prefixed CRS (EPSG:4513-4533)"
                )
            raise InvalidUpload(f"the eastings do not fit EPSG:{epsg} (wrong zone?)")
        if ((y < 2_000_000) | (y > 4_500_000)).any():
            raise InvalidUpload(f"the northings do not fit EPSG:{epsg} in China (x and y swapped?)")
        lonlat = np.column_stack(Transformer.from_crs(epsg, WGS84, always_xy=True).transform(x, y))
    minx, miny = lonlat.min(axis=0)
    maxx, maxy = lonlat.max(axis=0)
    west, south, east, north = REGION_BOUNDS
    if minx > east or maxx < west or miny > north or maxy < south:
        raise InvalidUpload(f"the coordinates are nowhere near Chongqing in EPSG:{epsg}: wrong CRS or zone?")
    return lonlat


def _to_wgs84(geometries: list[shapely.Geometry], *, epsg: int) -> list[shapely.Geometry]:
    coords = shapely.get_coordinates(np.array(geometries, dtype=object))
    lonlat = _check_coordinates(coords, epsg=epsg)
    return list(shapely.set_coordinates(np.array(geometries, dtype=object), lonlat))


def _number_of(attributes: dict) -> str:
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    for key in NUMBER_FIELDS:
        value = lowered.get(key)
        if value not in (None, "") and not (isinstance(value, float) and math.isnan(value)):
            return str(value).strip()
    return ""


def _features_from_geometries(
    geometries: list[shapely.Geometry], attributes: list[dict], *, epsg: int, limits: UploadLimits
) -> list[ParsedFeature]:
    if not geometries:
        raise InvalidUpload("the file has no features")
    if len(geometries) > limits.max_features:
        raise InvalidUpload(f"the file has {len(geometries):,} features; the limit is {limits.max_features:,}")
    vertices = int(sum(shapely.get_num_coordinates(g) for g in geometries if g is not None))
    if vertices > limits.max_vertices:
        raise InvalidUpload(f"the file has {vertices:,} vertices; the limit is {limits.max_vertices:,}")
    for index, geometry in enumerate(geometries, start=1):
        if geometry is None or geometry.is_empty:
            raise InvalidUpload(f"feature {index} has no geometry")
        if geometry.geom_type not in ("Point", "LineString", "MultiLineString"):
            raise InvalidUpload(
                f"feature {index} is a {geometry.geom_type}: only tracks (lines) and markers (points) are accepted"
            )
        if geometry.geom_type != "Point" and (shapely.get_num_coordinates(geometry) < 2 or not geometry.is_valid):
            raise InvalidUpload(f"feature {index} is not a valid line ({shapely.is_valid_reason(geometry)})")
    wgs = _to_wgs84(geometries, epsg=epsg)
    features = []
    for index, (geometry, attrs) in enumerate(zip(wgs, attributes, strict=True), start=1):
        if geometry.geom_type == "Point":
            number = _number_of(attrs)
            if not number:
                raise InvalidUpload(f"marker {index} has no marker number (a 'number', '编号' or 'name' field)")
            features.append(ParsedFeature(kind="marker", geometry=geometry, number=number, attributes=attrs))
        else:
            features.append(ParsedFeature(kind="track", geometry=geometry, attributes=attrs))
    return features


def _read_with_gdal(
    path: Path, *, layers: list[str] | None = None, encoding: str | None = None
) -> tuple[list, list, str | None]:
    """Geometries, attribute dicts and the CRS (WKT) of every (or the named) layer of a file."""
    geometries, attributes, crs = [], [], None
    try:
        available = [name for name, _ in pyogrio.list_layers(path)]
        for layer in available if layers is None else [n for n in layers if n in available]:
            info = pyogrio.read_info(path, layer=layer, encoding=encoding)
            if info["features"] == 0:
                continue
            frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="raise")
            crs = crs or info.get("crs")
            geometries.extend(frame.geometry.tolist())
            columns = [c for c in frame.columns if c != "geometry"]
            attributes.extend(
                {c: (None if isinstance(v, float) and math.isnan(v) else v) for c, v in zip(columns, row, strict=True)}
                for row in frame[columns].itertuples(index=False)
            )
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        shapely.errors.GEOSException,
        ValueError,
        UnicodeDecodeError,
    ) as exc:
        raise InvalidUpload(f"the file cannot be read ({str(exc).splitlines()[0][:200]})") from exc
    return geometries, attributes, crs


def _geojson_states_crs(data: bytes) -> bool:
    """Whether a (legacy) GeoJSON names its CRS; RFC 7946 GeoJSON has none and is WGS84."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidUpload(f"the GeoJSON is malformed or truncated ({exc})") from exc
    return isinstance(document, dict) and "crs" in document


def _refuse_dangerous_xml(data: bytes) -> None:
    """Refuse XML with a DTD (entity expansion, external entities) or that is malformed, before GDAL
    reads it: one streaming pass of defusedxml's SAX parser, which builds no tree."""
    try:
        defusedxml.sax.parseString(data, xml.sax.handler.ContentHandler(), forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise InvalidUpload(
            "XML with a DTD or entities is not accepted (entity expansion / external entities)"
        ) from exc
    except xml.sax.SAXException as exc:
        raise InvalidUpload(f"the XML is malformed or truncated ({exc})") from exc


def _safe_members(archive: zipfile.ZipFile, *, limits: UploadLimits) -> list[zipfile.ZipInfo]:
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > limits.max_zip_members:
        raise InvalidUpload(f"the archive has {len(members)} files; the limit is {limits.max_zip_members}")
    total = 0
    for member in members:
        name = member.filename.replace("\\", "/")
        path = PurePosixPath(name)
        if name.startswith("/") or ".." in path.parts or ":" in path.parts[0]:
            raise InvalidUpload(f"the archive has a member outside it: {member.filename!r}")
        suffix = path.suffix.lower()
        if suffix == ".zip":
            raise InvalidUpload("nested archives are not accepted")
        if suffix not in SHAPEFILE_PARTS:
            raise InvalidUpload(f"the archive may hold only Shapefile parts; found {member.filename!r}")
        total += member.file_size
        if total > limits.max_zip_uncompressed:
            raise InvalidUpload(
                f"the archive unpacks to more than {limits.max_zip_uncompressed // (1024 * 1024)} MB (zip bomb?)"
            )
    return members


def _extract_capped(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], directory: Path, *, limits: UploadLimits
) -> None:
    """Extract under flat safe names, stopping if the real sizes exceed the declared limit."""
    written = 0
    for member in members:
        target = directory / PurePosixPath(member.filename.replace("\\", "/")).name
        with archive.open(member) as source, open(target, "wb") as sink:
            while chunk := source.read(1 << 16):
                written += len(chunk)
                if written > limits.max_zip_uncompressed:
                    raise InvalidUpload("the archive unpacks to more than its limit (zip bomb?)")
                sink.write(chunk)


def _dbf_encoding(dbf: Path, cpg: Path | None, form_encoding: str | None) -> str:
    """The attribute encoding from .cpg, the form, or the DBF's language driver byte; UTF-8/ASCII
    attributes need none. Undeclared non-UTF-8 text (GBK without .cpg) is refused, not guessed."""
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip() or "UTF-8"
        return {"936": "GBK", "CP936": "GBK"}.get(declared.upper(), declared)
    if form_encoding:
        return form_encoding
    data = dbf.read_bytes()
    if len(data) > 29 and data[29] in DBF_LDID_GBK:
        return DBF_LDID_GBK[data[29]]
    header_length = int.from_bytes(data[8:10], "little") if len(data) >= 10 else len(data)
    try:
        data[header_length:].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUpload(
            "the Shapefile's attributes are not UTF-8 and no .cpg states their encoding: add a .cpg "
            "(e.g. GBK) or choose the encoding in the form"
        ) from None
    return "UTF-8"


def _read_csv(data: bytes, *, encoding: str | None) -> tuple[list, list, str | None]:
    try:
        text = data.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError):
        raise InvalidUpload("the CSV is not UTF-8: save it as UTF-8 or choose its encoding in the form") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise InvalidUpload("the CSV has no rows")
    header = {name.strip().lower(): name for name in rows[0] if name}

    def column(candidates: tuple[str, ...], label: str) -> str | None:
        found = next((header[c] for c in candidates if c in header), None)
        if found is None and label:
            raise InvalidUpload(f"the CSV has no {label} column (one of {', '.join(candidates)})")
        return found

    number_column = column(NUMBER_FIELDS, "marker number")
    x_column, y_column = column(X_FIELDS, "x"), column(Y_FIELDS, "y")
    crs_column = column(CRS_FIELDS, "")
    crs_values = {row[crs_column].strip() for row in rows} if crs_column else set()
    if len(crs_values) > 1:
        raise InvalidUpload(f"the CSV mixes CRSs ({', '.join(sorted(crs_values))}); send one CRS per file")
    geometries, attributes = [], []
    for line, row in enumerate(rows, start=2):
        try:
            x, y = float(row[x_column]), float(row[y_column])
        except (TypeError, ValueError):
            raise InvalidUpload(f"CSV line {line}: x and y must be numbers") from None
        geometries.append(shapely.Point(x, y))
        extra = {k: v for k, v in row.items() if k and k not in (number_column, x_column, y_column, crs_column)}
        attributes.append({**extra, "number": (row[number_column] or "").strip(), "line": line})
    crs = crs_values.pop() if crs_values else None
    return geometries, attributes, (f"EPSG:{crs_from_form(crs)}" if crs else None)


def survey_file_parse(
    *,
    data: bytes,
    filename: str,
    crs: str | int | None = None,
    encoding: str | None = None,
    limits: UploadLimits | None = None,
) -> ParsedFile:
    """Parse an uploaded survey file into WGS84 tracks and markers, or raise InvalidUpload (4xx)
    with the reason. ``crs`` is the form's EPSG code, ``encoding`` the form's attribute encoding."""
    limits = limits or UploadLimits.from_settings()
    if not data:
        raise InvalidUpload(f"{filename}: the file is empty")
    if len(data) > limits.max_bytes:
        raise UploadTooLarge(f"{filename}: {len(data):,} bytes; the limit is {limits.max_bytes:,}")
    form_crs = crs_from_form(crs)
    kind = survey_file_format(filename=filename, data=data)
    implied = None
    with tempfile.TemporaryDirectory(prefix="survey-upload-") as tmp:
        directory = Path(tmp)
        if kind in ("gpx", "kml"):
            _refuse_dangerous_xml(data)
            path = directory / f"upload.{kind}"
            path.write_bytes(data)
            layers = ["waypoints", "routes", "tracks"] if kind == "gpx" else None
            geometries, attributes, file_crs = _read_with_gdal(path, layers=layers)
            implied, file_crs = WGS84, None  # GPX and KML are WGS84 by definition
        elif kind == "geojson":
            states_crs = _geojson_states_crs(data)
            path = directory / "upload.geojson"
            path.write_bytes(data)
            geometries, attributes, file_crs = _read_with_gdal(path)
            if not states_crs:
                file_crs, implied = None, (None if form_crs else WGS84)  # RFC 7946: WGS84 unless stated
        elif kind == "geopackage":
            path = directory / "upload.gpkg"
            path.write_bytes(data)
            geometries, attributes, file_crs = _read_with_gdal(path)
        elif kind == "shapefile":
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
                members = _safe_members(archive, limits=limits)
                _extract_capped(archive, members, directory, limits=limits)
            except (zipfile.BadZipFile, EOFError, NotImplementedError, ValueError) as exc:
                raise InvalidUpload(f"{filename}: not a readable zip archive ({exc})") from exc
            shapefiles = sorted(directory.glob("*.[sS][hH][pP]"))
            if len(shapefiles) != 1:
                raise InvalidUpload(f"the archive must hold exactly one .shp (it holds {len(shapefiles)})")
            shp = shapefiles[0]
            parts = {p.suffix.lower(): p for p in directory.iterdir() if p.stem == shp.stem}
            missing = {".shx", ".dbf"} - set(parts)
            if missing:
                raise InvalidUpload(f"the Shapefile lacks {', '.join(sorted(missing))}")
            dbf_encoding = _dbf_encoding(parts[".dbf"], parts.get(".cpg"), encoding)
            geometries, attributes, file_crs = _read_with_gdal(shp, encoding=dbf_encoding)
        else:
            geometries, attributes, file_crs = _read_csv(data, encoding=encoding)
    epsg, source = _resolve_crs(in_file=_epsg_of_file_crs(file_crs), in_form=form_crs, implied=implied)
    features = _features_from_geometries(geometries, attributes, epsg=epsg, limits=limits)
    return ParsedFile(format=kind, crs=epsg, crs_source=source, features=features)
