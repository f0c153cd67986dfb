"""Reading a survey team's field file: GPX, KML, GeoJSON, zipped Shapefile, GeoPackage or CSV.

Every upload is hostile until proven otherwise. The parent checks the size, the form's CRS and that
the content is the format its name says; everything that reads the file runs in a sandboxed child
process (``boundaries.surveys.sandbox``) with CPU, memory and wall-clock limits, and answers with
plain data. In the child: XML with a DTD, GeoJSON ``crs`` other than an accepted EPSG code and
GeoPackage views are refused before GDAL sees the file (``boundaries.surveys.readers``); archive
members must be plain Shapefile parts with safe names (``boundaries.surveys.archives``); GDAL opens
the file once, with no network and only its own driver (``boundaries.surveys.ogr``), and stops at
the layer, feature and vertex limits. The coordinate reference system is read from the file or
taken from the form, checked against the coordinates, and never guessed. The result is a list of
features in WGS84 (EPSG:4326): tracks (lines) and markers (numbered points). Nothing here touches
the database.
"""

import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from boundaries.surveys import readers
from boundaries.surveys.sandbox import ChildLimits, sandbox_run
from gis_portal.core.crs import GEOGRAPHIC, GK_WITH_ZONE, SURVEY_CRS, WGS84, gauss_kruger_zone_range
from gis_portal.core.errors import InvalidData, PayloadTooLarge, UnsupportedMediaType
from gis_portal.core.region import REGION_BOUNDS

FORMATS = ("gpx", "kml", "geojson", "shapefile", "geopackage", "csv")
# Attribute encodings a user may state for a file that does not state its own.
ENCODINGS = ["UTF-8", "GBK", "GB18030", "BIG5"]
GDAL_DRIVER = {"gpx": "GPX", "kml": "KML", "geojson": "GeoJSON", "shapefile": "ESRI Shapefile", "geopackage": "GPKG"}


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
    """What one upload may cost. The last four bound the child process that reads it: CPU seconds,
    wall-clock seconds (below gunicorn's 30 s worker timeout, leaving time to validate) and address
    space beyond what the reader starts with; past any of them the upload is answered 422."""

    max_bytes: int = 20 * 1024 * 1024
    max_features: int = 10_000
    max_vertices: int = 1_000_000
    max_layers: int = 20
    max_zip_members: int = 20
    max_zip_uncompressed: int = 100 * 1024 * 1024
    max_cpu_seconds: int = 15
    max_wall_seconds: float = 20.0
    max_memory_bytes: int = 1024 * 1024 * 1024

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
    stats: dict = field(default_factory=dict)  # what reading cost in the sandbox child

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


def _features_from_geometries(
    geometries: list[shapely.Geometry], attributes: list[dict], *, epsg: int, limits: UploadLimits
) -> list[ParsedFeature]:
    if not geometries:
        raise InvalidUpload("the file has no features")
    if len(geometries) > limits.max_features:
        raise InvalidUpload(
            f"the file has more than {limits.max_features:,} features; the limit is {limits.max_features:,}"
        )
    vertices = int(sum(shapely.get_num_coordinates(g) for g in geometries if g is not None))
    if vertices > limits.max_vertices:
        raise InvalidUpload(
            f"the file has more than {limits.max_vertices:,} vertices; the limit is {limits.max_vertices:,}"
        )
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
            number = readers.number_of(attrs)
            if not number:
                raise InvalidUpload(f"marker {index} has no marker number (a 'number', '编号' or 'name' field)")
            features.append(ParsedFeature(kind="marker", geometry=geometry, number=number, attributes=attrs))
        else:
            features.append(ParsedFeature(kind="track", geometry=geometry, attributes=attrs))
    return features


def _epsg_of_layer_crs(crss: set[str]) -> int | None:
    """The EPSG code of the CRS GDAL found for the file's layers (one for all), if any."""
    if len(crss) > 1:
        raise InvalidUpload("the file's layers are in different CRSs; send one CRS per file")
    return _epsg_of_file_crs(next(iter(crss), None))


def _read(kind: str, data: bytes, directory: Path, *, encoding: str | None, limits: UploadLimits):
    """Geometries, attributes, the EPSG code the file states and the one its format implies."""
    from boundaries.surveys import archives, ogr  # GDAL is loaded in the sandbox child only

    bounds = {"max_layers": limits.max_layers, "max_features": limits.max_features, "max_vertices": limits.max_vertices}
    path = directory / f"upload.{'gpkg' if kind == 'geopackage' else kind}"
    try:
        if kind in ("gpx", "kml"):
            readers.refuse_dangerous_xml(data)
            path.write_bytes(data)
            layers = ["waypoints", "routes", "tracks"] if kind == "gpx" else None
            geometries, attributes, _ = ogr.ogr_read(path, driver=GDAL_DRIVER[kind], layers=layers, **bounds)
            return geometries, attributes, None, WGS84  # GPX and KML are WGS84 by definition
        if kind == "geojson":
            stated, cleaned = readers.geojson_without_crs(data)
            path.write_bytes(cleaned)
            geometries, attributes, _ = ogr.ogr_read(path, driver="GeoJSON", **bounds)
            return geometries, attributes, stated, None  # RFC 7946: WGS84 unless stated (or the form says)
        if kind == "geopackage":
            path.write_bytes(data)
            tables = readers.geopackage_feature_tables(path, max_layers=limits.max_layers)
            options = ["LIST_ALL_TABLES=NO"]
            geometries, attributes, crss = ogr.ogr_read(
                path, driver="GPKG", layers=tables, open_options=options, **bounds
            )
            return geometries, attributes, _epsg_of_layer_crs(crss), None
        if kind == "shapefile":
            archives.shapefile_extract(
                data, directory, max_members=limits.max_zip_members, max_uncompressed=limits.max_zip_uncompressed
            )
            shapefiles = sorted(directory.glob("*.[sS][hH][pP]"))
            if len(shapefiles) != 1:
                raise InvalidUpload(f"the archive must hold exactly one .shp (it holds {len(shapefiles)})")
            shp = shapefiles[0]
            parts = {p.suffix.lower(): p for p in directory.iterdir() if p.stem == shp.stem}
            missing = {".shx", ".dbf"} - set(parts)
            if missing:
                raise InvalidUpload(f"the Shapefile lacks {', '.join(sorted(missing))}")
            options = [f"ENCODING={archives.dbf_encoding(parts['.dbf'], parts.get('.cpg'), encoding)}"]
            geometries, attributes, crss = ogr.ogr_read(shp, driver="ESRI Shapefile", open_options=options, **bounds)
            return geometries, attributes, _epsg_of_layer_crs(crss), None
        geometries, attributes, crs = readers.read_csv(data, encoding=encoding, max_features=limits.max_features)
        return geometries, attributes, crs_from_form(crs), None
    except (readers.Refused, archives.ArchiveRefused, ogr.UnreadableFile) as exc:
        raise InvalidUpload(str(exc)) from exc


def survey_file_read(
    *, data: bytes, kind: str, form_crs: int | None, encoding: str | None, limits: UploadLimits, directory: str
) -> tuple[dict, bytes]:
    """The sandbox child's work: read the file, check it and convert it to WGS84, and return the
    result as plain data (a JSON-able header and the geometries' WKB, one after the other)."""
    geometries, attributes, stated, implied = _read(kind, data, Path(directory), encoding=encoding, limits=limits)
    if kind == "geojson" and stated is None:
        implied = None if form_crs else WGS84
    epsg, source = _resolve_crs(in_file=stated, in_form=form_crs, implied=implied)
    features = _features_from_geometries(geometries, attributes, epsg=epsg, limits=limits)
    wkbs = shapely.to_wkb(np.array([f.geometry for f in features], dtype=object)).tolist()
    header = {
        "format": kind,
        "crs": epsg,
        "crs_source": source,
        "features": [
            {"kind": f.kind, "number": f.number, "attributes": f.attributes, "wkb_bytes": len(w)}
            for f, w in zip(features, wkbs, strict=True)
        ],
    }
    return header, b"".join(wkbs)


def survey_file_parse(
    *,
    data: bytes,
    filename: str,
    crs: str | int | None = None,
    encoding: str | None = None,
    limits: UploadLimits | None = None,
) -> ParsedFile:
    """Parse an uploaded survey file into WGS84 tracks and markers, or raise InvalidUpload (4xx)
    with the reason, or LimitExceeded (422) when reading it passes the CPU, memory or time limit.
    ``crs`` is the form's EPSG code, ``encoding`` the form's attribute encoding."""
    limits = limits or UploadLimits.from_settings()
    if not data:
        raise InvalidUpload(f"{filename}: the file is empty")
    if len(data) > limits.max_bytes:
        raise UploadTooLarge(f"{filename}: {len(data):,} bytes; the limit is {limits.max_bytes:,}")
    form_crs = crs_from_form(crs)
    kind = survey_file_format(filename=filename, data=data)
    if encoding is not None and encoding not in ENCODINGS:
        raise InvalidUpload(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    directory = tempfile.mkdtemp(prefix="survey-upload-")
    try:
        result = sandbox_run(
            survey_file_read,
            kwargs={
                "data": data, "kind": kind, "form_crs": form_crs, "encoding": encoding, "limits": limits,
                "directory": directory,
            },
            limits=ChildLimits(
                cpu_seconds=limits.max_cpu_seconds,
                wall_seconds=limits.max_wall_seconds,
                memory_bytes=limits.max_memory_bytes,
                file_bytes=max(2 * limits.max_bytes, limits.max_zip_uncompressed) + (1 << 20),
            ),
            refusals={cls.__name__: cls for cls in (InvalidUpload, UploadTooLarge, UnsupportedFormat)},
            what=filename,
        )  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    header, offsets = result.header, np.cumsum([0] + [f["wkb_bytes"] for f in result.header["features"]])
    geometries = shapely.from_wkb([result.blob[a:b] for a, b in itertools.pairwise(offsets)])
    features = [
        ParsedFeature(kind=f["kind"], geometry=g, number=f["number"], attributes=f["attributes"])
        for f, g in zip(header["features"], geometries, strict=True)
    ]
    return ParsedFile(
        format=header["format"],
        crs=header["crs"],
        crs_source=header["crs_source"],
        features=features,
        stats=result.stats,
    )
