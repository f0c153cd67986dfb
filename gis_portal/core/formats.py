"""Output formats shared by the apps: GeoJSON features and collections built from rows, and CSV
downloads (UTF-8 with a byte-order mark, so that spreadsheet programs read the Chinese), streamed
row by row."""

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

CSV_BOM = "\ufeff"


def geojson_feature(*, geometry: dict | str | None, properties: dict, id: Any = None) -> dict:
    """A GeoJSON Feature; ``geometry`` may be the text ST_AsGeoJSON rendered (parsed here)."""
    if isinstance(geometry, str):
        geometry = json.loads(geometry)
    feature: dict[str, Any] = {"type": "Feature"}
    if id is not None:
        feature["id"] = id
    feature["geometry"] = geometry
    feature["properties"] = properties
    return feature


def geojson_collection(features: list[dict], **members: Any) -> dict:
    """A GeoJSON FeatureCollection with foreign members (e.g. ``rule``, ``note``) before the features."""
    return {"type": "FeatureCollection", **members, "features": features}


class _Echo:
    """A file-like object whose write returns the text, for csv.writer into a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[dict], fieldnames: list[str] | None) -> Iterator[str]:
    writer = None
    yield CSV_BOM
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(_Echo(), fieldnames=fieldnames or list(row.keys()))
            yield writer.writeheader()
        yield writer.writerow(row)
    if writer is None and fieldnames:
        yield csv.DictWriter(_Echo(), fieldnames=fieldnames).writeheader()


def csv_response(rows: Iterable[dict], *, filename: str, fieldnames: list[str] | None = None) -> StreamingHttpResponse:
    """Rows (dicts) as a CSV download, written as they come: a large export is never held whole."""
    response = StreamingHttpResponse(_csv_lines(rows, fieldnames), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def feature_rows(collection: dict) -> Iterator[dict]:
    """The point features of a collection as flat rows (properties plus lon, lat), for CSV."""
    for feature in collection["features"]:
        geometry = feature["geometry"]
        if geometry and geometry["type"] == "Point":
            lon, lat = geometry["coordinates"]
            yield {**feature["properties"], "lon": lon, "lat": lat}
