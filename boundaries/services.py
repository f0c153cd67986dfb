"""Writes to the divisions: loading clusters, importing the statistical divisions and their
polygons. Every entry point runs in one transaction and is idempotent (upsert by code)."""

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from boundaries.models import Cluster, Division, DivisionPiece
from boundaries.names import division_kind
from gis_portal.core.errors import InvalidData
from gis_portal.core.geo import read_geojson_features, to_geos_multipolygon, to_wgs84

MUNICIPALITY_CODE = "500000"
CODE_LENGTH = {Division.Level.DISTRICT: 6, Division.Level.TOWNSHIP: 9, Division.Level.VILLAGE: 12}
PARENT_LEVEL = {
    Division.Level.DISTRICT: Division.Level.MUNICIPALITY,
    Division.Level.TOWNSHIP: Division.Level.DISTRICT,
    Division.Level.VILLAGE: Division.Level.TOWNSHIP,
}
# Rough bounds of China: a polygon outside them is in the wrong CRS or has swapped axes.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
MAX_REPORTED_ERRORS = 20


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return ", ".join(
            f"{level}: {self.created.get(level, 0)} created, {self.updated.get(level, 0)} updated"
            for level in Division.Level.values
            if level in self.created
        )


@transaction.atomic
def clusters_load(*, path: Path) -> dict[str, str]:
    """Upsert the clusters from a JSON file; return {district code: cluster slug}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        clusters = data["clusters"]
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidData(f"{path}: not a clusters file ({exc})") from exc
    district_cluster: dict[str, str] = {}
    for order, item in enumerate(clusters):
        Cluster.objects.update_or_create(
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "name_en": item["name_en"],
                "short_name": item["short_name"],
                "color": item["color"],
                "sort_order": order,
            },
        )
        for code in item["districts"]:
            if code in district_cluster:
                raise InvalidData(f"{path}: district {code} is in two clusters")
            district_cluster[code] = item["slug"]
    return district_cluster


def divisions_read_csv(*, path: Path) -> list[dict]:
    """Read and check a divisions CSV (code,name,level,parent_code). Raise InvalidData listing the
    bad lines; a file with any bad line is rejected whole."""
    errors: list[str] = []
    rows: list[dict] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
            if missing:
                raise InvalidData(f"{path}: missing columns {', '.join(sorted(missing))}")
            for line, raw in enumerate(reader, start=2):
                row = {key: (raw.get(key) or "").strip() for key in ("code", "name", "level", "parent_code")}
                level = row["level"]
                if level not in CODE_LENGTH:
                    errors.append(f"line {line}: level {level!r} is not district, township or village")
                elif not re.fullmatch(rf"[0-9]{{{CODE_LENGTH[level]}}}", row["code"]):
                    errors.append(f"line {line}: code {row['code']!r} is not {CODE_LENGTH[level]} digits")
                elif not row["name"]:
                    errors.append(f"line {line}: empty name")
                elif level != Division.Level.DISTRICT and not row["code"].startswith(row["parent_code"]):
                    errors.append(
                        f"line {line}: code {row['code']} does not start with its parent's {row['parent_code']}"
                    )
                row["line"] = line
                rows.append(row)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidData(f"{path}: cannot read the CSV ({exc})") from exc

    level_of = {MUNICIPALITY_CODE: Division.Level.MUNICIPALITY}
    for row in rows:
        if row["code"] in level_of:
            errors.append(f"line {row['line']}: code {row['code']} appears twice")
        level_of[row["code"]] = row["level"]
    for row in rows:
        parent_level = level_of.get(row["parent_code"])
        if row["level"] in PARENT_LEVEL and parent_level != PARENT_LEVEL[row["level"]]:
            errors.append(
                f"line {row['line']}: parent {row['parent_code']!r} of {row['code']} is not a known "
                f"{PARENT_LEVEL[row['level']]}"
            )
    if not rows:
        errors.append("no divisions in the file")
    if errors:
        shown = "; ".join(errors[:MAX_REPORTED_ERRORS])
        more = f" (and {len(errors) - MAX_REPORTED_ERRORS} more)" if len(errors) > MAX_REPORTED_ERRORS else ""
        raise InvalidData(f"{path}: {len(errors)} bad line(s), nothing imported: {shown}{more}")
    return rows


def _polygons_by_code(*, path: Path, datum: str) -> dict[str, tuple[str, object]]:
    """{adcode: (name, GEOS MultiPolygon in WGS84)} from a GeoJSON file in the given datum."""
    polygons = {}
    for properties, geom in read_geojson_features(path):
        code = str(properties.get("adcode") or properties.get("code") or "")
        if not code:
            raise InvalidData(f"{path}: a feature has no adcode/code property")
        wgs = to_wgs84(geom, datum=datum)
        if not wgs.is_valid or wgs.is_empty or wgs.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidData(f"{path}: feature {code} is not a valid polygon")
        minx, miny, maxx, maxy = wgs.bounds
        if minx < CHINA_BOUNDS[0] or miny < CHINA_BOUNDS[1] or maxx > CHINA_BOUNDS[2] or maxy > CHINA_BOUNDS[3]:
            raise InvalidData(f"{path}: feature {code} lies outside China: wrong CRS or swapped axes?")
        polygons[code] = (str(properties.get("name") or ""), to_geos_multipolygon(wgs))
    return polygons


def _upsert(*, rows: list[Division], update_fields: list[str], report: ImportReport, level: str) -> None:
    codes = [row.code for row in rows]
    existing = set(Division.objects.filter(code__in=codes).values_list("code", flat=True))
    Division.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["code"], update_fields=update_fields, batch_size=2000
    )
    report.created[level] = len(codes) - len(existing)
    report.updated[level] = len(existing)


@transaction.atomic
def divisions_import(
    *,
    divisions_csv: Path,
    districts_geojson: Path,
    municipality_geojson: Path,
    clusters_json: Path,
    datum: str,
    names_source: str,
    polygons_source: str,
) -> ImportReport:
    """Import the municipality, districts (with polygons converted from ``datum`` to WGS84),
    townships and villages/communities. Upserts by code: running it twice changes nothing.
    Generated geometry of townships and villages is left as it is."""
    district_cluster = clusters_load(path=clusters_json)
    rows = divisions_read_csv(path=divisions_csv)
    municipality = _polygons_by_code(path=municipality_geojson, datum=datum)
    if MUNICIPALITY_CODE not in municipality:
        raise InvalidData(f"{municipality_geojson}: no feature with adcode {MUNICIPALITY_CODE}")
    district_polygons = _polygons_by_code(path=districts_geojson, datum=datum)
    district_codes = {row["code"] for row in rows if row["level"] == Division.Level.DISTRICT}
    unknown = sorted(set(district_polygons) - district_codes)
    if unknown:
        raise InvalidData(f"{districts_geojson}: polygons for unknown districts {', '.join(unknown)}")
    missing_cluster = sorted(district_codes - set(district_cluster))
    if missing_cluster:
        raise InvalidData(f"{clusters_json}: districts in no cluster: {', '.join(missing_cluster)}")

    report = ImportReport()
    polygon_fields = ["name", "level", "kind", "parent", "cluster", "geom", "is_synthetic", "source", "source_datum"]
    name, geom = municipality[MUNICIPALITY_CODE]
    _upsert(
        rows=[
            Division(
                code=MUNICIPALITY_CODE,
                name=name or "重庆市",
                level=Division.Level.MUNICIPALITY,
                kind=Division.Kind.MUNICIPALITY,
                geom=geom,
                is_synthetic=False,
                source=polygons_source,
                source_datum=datum,
            )
        ],
        update_fields=polygon_fields,
        report=report,
        level=Division.Level.MUNICIPALITY,
    )

    ids = dict(Division.objects.filter(code=MUNICIPALITY_CODE).values_list("code", "id"))
    district_of = {row["code"]: (row["code"] if row["level"] == "district" else None) for row in rows}
    for level in (Division.Level.DISTRICT, Division.Level.TOWNSHIP, Division.Level.VILLAGE):
        level_rows = []
        for row in (r for r in rows if r["level"] == level):
            district_code = district_of[row["code"]] or district_of[row["parent_code"]]
            district_of[row["code"]] = district_code
            division = Division(
                code=row["code"],
                name=row["name"],
                level=level,
                kind=division_kind(level=level, name=row["name"]),
                parent_id=ids[row["parent_code"]],
                cluster_id=district_cluster[district_code],
                source=names_source,
            )
            if level == Division.Level.DISTRICT and row["code"] in district_polygons:
                division.geom = district_polygons[row["code"]][1]
                division.source = f"{names_source}; boundary: {polygons_source}"
                division.source_datum = datum
            level_rows.append(division)
        fields = (
            polygon_fields
            if level == Division.Level.DISTRICT
            else ["name", "level", "kind", "parent", "cluster", "source"]
        )
        _upsert(rows=level_rows, update_fields=fields, report=report, level=level)
        ids.update(Division.objects.filter(level=level).values_list("code", "id"))

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE boundaries_division
               SET point = ST_PointOnSurface(geom), area_m2 = ST_Area(geom::geography)
             WHERE level IN ('municipality', 'district') AND geom IS NOT NULL
            """
        )
    division_pieces_rebuild()
    return report


@transaction.atomic
def division_pieces_rebuild(*, division_ids: list[int] | None = None) -> int:
    """Recut the polygons of the given divisions (default: all) into indexed pieces of at most
    DivisionPiece.MAX_VERTICES vertices; return the number of pieces written."""
    params = {"ids": division_ids, "max_vertices": DivisionPiece.MAX_VERTICES}
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM boundaries_divisionpiece"
            " WHERE %(ids)s::bigint[] IS NULL OR division_id = ANY(%(ids)s::bigint[])",
            params,
        )
        cursor.execute(
            """
            INSERT INTO boundaries_divisionpiece (division_id, level, geom)
            SELECT id, level, ST_Subdivide(geom, %(max_vertices)s)
              FROM boundaries_division
             WHERE geom IS NOT NULL AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
            """,
            params,
        )
        return cursor.rowcount
