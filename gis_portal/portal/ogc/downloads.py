"""Layers as files for desktop GIS: a GeoPackage, or a zipped Shapefile (UTF-8, with its ``.cpg``),
written by GDAL's ``ogr2ogr`` straight from the collection's SQL (the same source and properties as
the OGC items) into a temporary directory that is gone once the answer is sent. Whole, or selected
with the items' parameters: a property's value (``district_code=500103``, ``cluster=urban_core``),
``bbox``, ``datetime`` or a CQL2 ``filter``.

Shapefile limits apply to that format only: field names are cut to 10 characters by GDAL
(``elderly_population`` becomes ``elderly_po``), booleans become integers.
"""

import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from django.db import connection
from django.http import FileResponse

from gis_portal.core.errors import InvalidParameter, ServiceError
from gis_portal.core.throttles import HeavyReadThrottle, heavy_request
from gis_portal.portal.ogc import collections as layers
from gis_portal.portal.ogc.selectors import items_table_sql
from gis_portal.portal.ogc.views import OgcView, selection

logger = logging.getLogger(__name__)

FORMATS = {
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ("ESRI Shapefile", ".shp.zip", "application/zip"),
}
OGR2OGR_TIMEOUT_S = 300


class DownloadFailed(ServiceError):
    status = 503
    code = "download_failed"
    default_message = "The file could not be written; try again later."


def _layer_sql(query) -> str:
    """The selected features as one SQL text with its values quoted by psycopg2."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        return cursor.mogrify(items_table_sql(query), query.params).decode()


def _pg_source() -> tuple[str, dict]:
    """The database as GDAL names it, and the environment carrying the password."""
    settings = connection.settings_dict
    parts = {
        "dbname": settings["NAME"],
        "host": settings.get("HOST"),
        "port": settings.get("PORT"),
        "user": settings.get("USER"),
    }
    text = " ".join(f"{key}='{value}'" for key, value in parts.items() if value)
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or "", "PG_LIST_ALL_TABLES": "NO"}
    return "PG:" + text, env


def layer_file(query, *, fmt: str, directory: Path) -> Path:
    """Write the selected features of a collection into ``directory`` as ``fmt``; the file's path."""
    collection = query.collection
    driver, suffix, _ = FORMATS[fmt]
    query_file = directory / "layer.sql"
    query_file.write_text(_layer_sql(query), encoding="utf-8")
    name = collection.id.replace("-", "_")
    target = directory / (name + ".gpkg" if fmt == "gpkg" else name)
    source, env = _pg_source()
    command = [
        "ogr2ogr",
        "-f",
        driver,
        str(target),
        source,
        "-sql",
        f"@{query_file}",
        "-nln",
        name,
        "-a_srs",
        "EPSG:4326",
    ]
    if fmt == "shp":
        command += ["-lco", "ENCODING=UTF-8"]
    else:
        command += ["-nlt", "PROMOTE_TO_MULTI"] if collection.geometry_type.startswith("Multi") else []
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=OGR2OGR_TIMEOUT_S, check=False)  # noqa: S603 -- a fixed tool
    if result.returncode != 0:
        logger.error("ogr2ogr failed for %s (%s): %s", collection.id, fmt, result.stderr[-2000:])
        raise DownloadFailed()
    if fmt == "gpkg":
        return target
    archive = directory / (name + suffix)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for part in sorted(target.iterdir()):
            zipped.write(part, arcname=part.name)
    return archive


class DownloadView(OgcView):
    throttle_classes = [HeavyReadThrottle]

    @heavy_request
    def get(self, request, collection_id: str):
        fmt = request.GET.get("f", "")
        if fmt not in FORMATS:
            raise InvalidParameter(f"f: {fmt[:20]!r} is not one of {', '.join(FORMATS)}")
        collection = layers.collection_get(collection_id)
        if request.GET.get("crs") or request.GET.get("limit"):
            raise InvalidParameter("a download is the whole selection in CRS84 (EPSG:4326): no crs or limit")
        query, _ = selection(request, collection)
        directory = Path(tempfile.mkdtemp(prefix="layer-"))
        try:
            path = layer_file(query, fmt=fmt, directory=directory)
            handle = path.open("rb")  # the open file outlives its directory, removed now
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        _, _, content_type = FORMATS[fmt]
        return FileResponse(handle, as_attachment=True, filename=path.name, content_type=content_type)
