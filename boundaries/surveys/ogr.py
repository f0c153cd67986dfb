"""GDAL for untrusted files, inside the sandbox child only (``boundaries.surveys.sandbox``).

The library is the one pyogrio bundles (pyogrio loads it and sets its data paths), called through
ctypes so that a file is opened once and all its layers are read in one pass (pyogrio opens the
file again for every layer: a KML of 1,000 folders cost 1,000 opens). Reading stops at the feature
and vertex limits plus one.

``gdal_harden`` closes every way GDAL could reach beyond the file it is given:

- only the five drivers the service reads stay registered (``GDAL_SKIP`` then a new
  ``GDALAllRegister``), and each open names its driver: no GML schema download, no VRT or LIBKML
  ``NetworkLink``/external style, no WFS, no SQLite ``VirtualOGR``;
- every ``CPLHTTPFetch`` (what GDAL uses to fetch a GeoJSON ``crs`` link, ``importFromUrl`` and
  other URLs named inside files) answers from a callback that refuses, without a socket
  (``CPLHTTPSetFetchCallback``); ``/vsicurl/`` and the cloud handlers built on it accept no file
  name (``CPL_VSIL_CURL_ALLOWED_FILENAME``); PROJ's network is off;
- no directory listing or side files on open (``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR``,
  ``GDAL_PAM_ENABLED=NO``), no ``/vsistdin/``, no external access from SQLite.

Blocked requests are counted, so the parent can log them.
"""

import ctypes
import os
from pathlib import Path

import pyproj.network
import shapely

DRIVERS = ("GPX", "KML", "GeoJSON", "ESRI Shapefile", "GPKG")
CONFIG = {
    # Nothing named inside a file is fetched or opened.
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/no-remote-files",
    "CPL_CURL_ENABLE_VSIMEM": "NO",
    "CPL_ALLOW_VSISTDIN": "NO",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "NO",
    "ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
    "GML_DOWNLOAD_SCHEMA": "NO",
    "PROJ_NETWORK": "OFF",
    # Should a request get past the callback anyway: fail fast, never retry.
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_NUM_THREADS": "1",
}
GDAL_OF_VECTOR, GDAL_OF_VERBOSE_ERROR = 0x04, 0x40
WKB_NONE, WKB_NDR = 100, 1
CE_FAILURE = 3

blocked_requests: list[str] = []  # URLs GDAL tried to fetch in this process


class UnreadableFile(Exception):
    """The file cannot be read, or passes a limit; the message says which."""


class _HTTPResult(ctypes.Structure):
    """``CPLHTTPResult`` (cpl_http.h), the fields GDAL reads after a failed fetch."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pabyData", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pszErrBuf", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
    ]


_FETCH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_char_p,
    *([ctypes.c_void_p] * 6),  # url, options, progress.., write.., user data
)
_SIGNATURES = {
    "GDALAllRegister": (None, []),
    "GDALGetDriverCount": (ctypes.c_int, []),
    "GDALGetDriver": (ctypes.c_void_p, [ctypes.c_int]),
    "GDALGetDriverShortName": (ctypes.c_char_p, [ctypes.c_void_p]),
    "GDALOpenEx": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_uint] + [ctypes.POINTER(ctypes.c_char_p)] * 3),
    "GDALClose": (ctypes.c_int, [ctypes.c_void_p]),
    "GDALDatasetGetLayerCount": (ctypes.c_int, [ctypes.c_void_p]),
    "GDALDatasetGetLayer": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int]),
    "GDALDatasetGetLayerByName": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "OGR_L_GetName": (ctypes.c_char_p, [ctypes.c_void_p]),
    "OGR_L_GetGeomType": (ctypes.c_int, [ctypes.c_void_p]),
    "OGR_L_GetSpatialRef": (ctypes.c_void_p, [ctypes.c_void_p]),
    "OGR_L_GetLayerDefn": (ctypes.c_void_p, [ctypes.c_void_p]),
    "OGR_L_ResetReading": (None, [ctypes.c_void_p]),
    "OGR_L_GetNextFeature": (ctypes.c_void_p, [ctypes.c_void_p]),
    "OGR_FD_GetFieldCount": (ctypes.c_int, [ctypes.c_void_p]),
    "OGR_FD_GetFieldDefn": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int]),
    "OGR_Fld_GetNameRef": (ctypes.c_char_p, [ctypes.c_void_p]),
    "OGR_F_GetGeometryRef": (ctypes.c_void_p, [ctypes.c_void_p]),
    "OGR_F_IsFieldSetAndNotNull": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "OGR_F_GetFieldAsString": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int]),
    "OGR_F_Destroy": (None, [ctypes.c_void_p]),
    "OGR_G_WkbSizeEx": (ctypes.c_size_t, [ctypes.c_void_p]),
    "OGR_G_ExportToWkb": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]),
    "OSRAutoIdentifyEPSG": (ctypes.c_int, [ctypes.c_void_p]),
    "OSRGetAuthorityName": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "OSRGetAuthorityCode": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "OSRExportToWkt": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]),
    "OSRSetPROJEnableNetwork": (None, [ctypes.c_int]),
    "CPLSetConfigOption": (None, [ctypes.c_char_p, ctypes.c_char_p]),
    "CPLGetLastErrorMsg": (ctypes.c_char_p, []),
    "CPLGetLastErrorType": (ctypes.c_int, []),
    "CPLErrorReset": (None, []),
    "CPLHTTPSetFetchCallback": (None, [_FETCH_CALLBACK, ctypes.c_void_p]),
    "CPLCalloc": (ctypes.c_void_p, [ctypes.c_size_t, ctypes.c_size_t]),
    "CPLStrdup": (ctypes.c_void_p, [ctypes.c_char_p]),
    "VSIFree": (None, [ctypes.c_void_p]),
}


def _libgdal_path() -> str:
    """The libgdal pyogrio loaded: the one in its wheel's libraries if any, else the one mapped."""
    import pyogrio  # here, not at the top: it loads pandas and geopandas (~80 MB) into every worker

    bundled = sorted((Path(pyogrio.__file__).parent.parent / "pyogrio.libs").glob("libgdal*.so*"))
    if bundled:
        return str(bundled[0])
    with open("/proc/self/maps") as maps:
        mapped = [line.split()[-1] for line in maps if "libgdal" in line.split()[-1]]
    if not mapped:
        raise RuntimeError("cannot find the GDAL library pyogrio uses")
    return mapped[0]


class _GDAL:
    def __init__(self) -> None:
        self.lib = ctypes.CDLL(_libgdal_path())
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(self.lib, name)
            function.restype, function.argtypes = restype, argtypes
        self.hardened = False
        self._callback = _FETCH_CALLBACK(self._refuse_fetch)  # kept alive as long as GDAL may call it

    def __getattr__(self, name: str):
        return getattr(self.lib, name)

    def _refuse_fetch(self, url, *_) -> int:
        blocked_requests.append((url or b"").decode("utf-8", "replace")[:200])
        result = self.lib.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
        fields = _HTTPResult.from_address(result)
        fields.nStatus = 7  # CURLE_COULDNT_CONNECT
        fields.pszErrBuf = self.lib.CPLStrdup(b"network access is disabled while reading uploaded files")
        return result

    def last_failure(self) -> str:
        """The message of the last GDAL error (not warning) since ``CPLErrorReset``, or ""."""
        if self.lib.CPLGetLastErrorType() < CE_FAILURE:
            return ""
        text = (self.lib.CPLGetLastErrorMsg() or b"").decode("utf-8", "replace")
        return text.splitlines()[0][:200] if text else "unknown error"


_gdal: _GDAL | None = None


def gdal_harden() -> _GDAL:
    """Configure this process's GDAL for untrusted files (see the module docstring); idempotent."""
    global _gdal
    if _gdal is None:
        _gdal = _GDAL()
    gdal = _gdal
    if not gdal.hardened:
        os.environ["PROJ_NETWORK"] = "OFF"
        pyproj.network.set_network_enabled(False)
        for key, value in CONFIG.items():
            gdal.CPLSetConfigOption(key.encode(), value.encode())
        gdal.OSRSetPROJEnableNetwork(0)
        gdal.CPLHTTPSetFetchCallback(gdal._callback, None)
        names = [gdal.GDALGetDriverShortName(gdal.GDALGetDriver(i)) for i in range(gdal.GDALGetDriverCount())]
        skip = b",".join(n for n in names if n.decode() not in DRIVERS)
        gdal.CPLSetConfigOption(b"GDAL_SKIP", skip)
        gdal.GDALAllRegister()  # unloads every driver GDAL_SKIP names
        gdal.hardened = True
    return gdal


def gdal_drivers() -> list[str]:
    """The drivers registered in this process (after ``gdal_harden``: the five)."""
    gdal = gdal_harden()
    return [gdal.GDALGetDriverShortName(gdal.GDALGetDriver(i)).decode() for i in range(gdal.GDALGetDriverCount())]


def _strings(values: list[str]):
    array = (ctypes.c_char_p * (len(values) + 1))(*[v.encode() for v in values], None)
    return ctypes.cast(array, ctypes.POINTER(ctypes.c_char_p))


def _crs_text(gdal: _GDAL, srs: int | None) -> str | None:
    """``EPSG:<code>`` when GDAL knows the layer's CRS by an EPSG code, else its WKT."""
    if not srs:
        return None
    if gdal.OSRGetAuthorityName(srs, None) != b"EPSG":
        gdal.OSRAutoIdentifyEPSG(srs)
    if gdal.OSRGetAuthorityName(srs, None) == b"EPSG" and gdal.OSRGetAuthorityCode(srs, None):
        return f"EPSG:{gdal.OSRGetAuthorityCode(srs, None).decode()}"
    wkt = ctypes.c_void_p()
    if gdal.OSRExportToWkt(srs, ctypes.byref(wkt)) != 0 or not wkt.value:
        return "(unreadable CRS)"
    try:
        return ctypes.string_at(wkt.value).decode("utf-8", "replace")
    finally:
        gdal.VSIFree(wkt)


def ogr_read(
    path: Path,
    *,
    driver: str,
    layers: list[str] | None = None,
    open_options: list[str] | None = None,
    max_layers: int,
    max_features: int,
    max_vertices: int,
) -> tuple[list[shapely.Geometry], list[dict], set[str]]:
    """Geometries, attribute dicts (text) and the CRSs (``EPSG:<code>`` or WKT) of every layer of
    ``path`` (or the named ones) that has geometry, opened once with ``driver`` only. Layers without
    geometry (attribute tables) are skipped. Raises UnreadableFile past ``max_layers`` layers,
    ``max_features`` features or ``max_vertices`` vertices (reading stops at the first one over)."""
    gdal = gdal_harden()
    gdal.CPLErrorReset()
    dataset = gdal.GDALOpenEx(
        str(path).encode(),
        GDAL_OF_VECTOR | GDAL_OF_VERBOSE_ERROR,
        _strings([driver]),
        _strings(open_options or []),
        None,
    )
    if not dataset:
        raise UnreadableFile(f"the file cannot be read ({gdal.last_failure() or 'not a ' + driver + ' file'})")
    try:
        count = gdal.GDALDatasetGetLayerCount(dataset)
        if count > max_layers:
            raise UnreadableFile(f"the file has {count:,} layers; the limit is {max_layers:,}")
        if layers is None:
            handles = [gdal.GDALDatasetGetLayer(dataset, i) for i in range(count)]
        else:
            handles = [h for h in (gdal.GDALDatasetGetLayerByName(dataset, n.encode()) for n in layers) if h]
        geometries, attributes, crss, vertices = [], [], set(), 0
        for layer in handles:
            if gdal.OGR_L_GetGeomType(layer) == WKB_NONE:
                continue  # an attribute table: nothing to place on the map
            definition = gdal.OGR_L_GetLayerDefn(layer)
            names = [
                gdal.OGR_Fld_GetNameRef(gdal.OGR_FD_GetFieldDefn(definition, i)).decode("utf-8", "replace")
                for i in range(gdal.OGR_FD_GetFieldCount(definition))
            ]
            gdal.CPLErrorReset()
            gdal.OGR_L_ResetReading(layer)
            found = 0
            while feature := gdal.OGR_L_GetNextFeature(layer):
                try:
                    found += 1
                    if len(geometries) >= max_features:
                        raise UnreadableFile(
                            f"the file has more than {max_features:,} features; the limit is {max_features:,}"
                        )
                    geometry = _geometry(gdal, gdal.OGR_F_GetGeometryRef(feature))
                    vertices += 0 if geometry is None else int(shapely.get_num_coordinates(geometry))
                    if vertices > max_vertices:
                        raise UnreadableFile(
                            f"the file has more than {max_vertices:,} vertices; the limit is {max_vertices:,}"
                        )
                    geometries.append(geometry)
                    attributes.append(_attributes(gdal, feature, names))
                finally:
                    gdal.OGR_F_Destroy(feature)
            message = gdal.last_failure()
            if message:
                raise UnreadableFile(f"the file cannot be read ({message})")
            if found:
                crss.add(_crs_text(gdal, gdal.OGR_L_GetSpatialRef(layer)) or "")
        return geometries, attributes, crss - {""}
    finally:
        gdal.GDALClose(dataset)


def _geometry(gdal: _GDAL, handle: int | None) -> shapely.Geometry | None:
    if not handle:
        return None
    size = gdal.OGR_G_WkbSizeEx(handle)
    buffer = ctypes.create_string_buffer(size)
    if gdal.OGR_G_ExportToWkb(handle, WKB_NDR, buffer) != 0:
        raise UnreadableFile("a geometry cannot be read")
    try:
        return shapely.from_wkb(buffer.raw)
    except shapely.errors.GEOSException as exc:
        raise UnreadableFile(f"a geometry cannot be read ({str(exc)[:100]})") from exc


def _attributes(gdal: _GDAL, feature: int, names: list[str]) -> dict:
    values = {}
    for index, name in enumerate(names):
        if gdal.OGR_F_IsFieldSetAndNotNull(feature, index):
            try:
                values[name] = gdal.OGR_F_GetFieldAsString(feature, index).decode("utf-8")
            except UnicodeDecodeError:
                raise UnreadableFile(
                    f"the attribute {name!r} is not UTF-8: state the file's encoding in the form"
                ) from None
    return values
