"""Writes to the divisions: loading the clusters, importing the statistical divisions (CSV) with
the municipality and district polygons (GeoJSON, converted to EPSG:4326), and cutting the polygons
into the indexed pieces that point look-ups use. Every entry point runs in one transaction and is
idempotent (upsert by code); a rejected file changes nothing."""

import csv
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from boundaries.models import Cluster, Division, DivisionPiece
from boundaries.names import division_kind
from boundaries.signals import divisions_changed
from gis_portal.core import sql
from gis_portal.core.errors import InvalidData
from gis_portal.core.geo import read_geojson_features, to_geos_multipolygon, to_wgs84
from gis_portal.core.region import CODE_DIGITS, MUNICIPALITY_CODE, MUNICIPALITY_NAME, division_code_pattern, in_region

logger = logging.getLogger(__name__)

# The levels a divisions CSV holds, each with the pattern of its codes.
CODE_PATTERN = {
    level: re.compile(division_code_pattern(level))
    for level in (Division.Level.DISTRICT, Division.Level.TOWNSHIP, Division.Level.VILLAGE)
}
PARENT_LEVEL = {
    Division.Level.DISTRICT: Division.Level.MUNICIPALITY,
    Division.Level.TOWNSHIP: Division.Level.DISTRICT,
    Division.Level.VILLAGE: Division.Level.TOWNSHIP,
}

# A representative point and the geodesic area (m²) of the polygons the import brings.
POLYGON_MEASURES_SQL = sql.compose(
    """
UPDATE {division}
   SET point = ST_PointOnSurface(geom), area_m2 = ST_Area(geom::geography)
 WHERE level IN ('municipality', 'district') AND geom IS NOT NULL
""",
    division=Division,
)

# Every polygon of the given divisions (all when ids is NULL) cut into pieces of at most
# max_vertices vertices.
PIECES_SQL = sql.compose(
    """
INSERT INTO {piece} (division_id, level, geom)
SELECT id, level, ST_Subdivide(geom, %(max_vertices)s)
  FROM {division}
 WHERE geom IS NOT NULL AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
""",
    piece=DivisionPiece,
    division=Division,
)


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
                if level not in CODE_PATTERN:
                    errors.append(f"line {line}: level {level!r} is not district, township or village")
                elif not CODE_PATTERN[level].fullmatch(row["code"]):
                    errors.append(f"line {line}: code {row['code']!r} is not {CODE_DIGITS[level]} digits")
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
        raise InvalidData.from_lines(str(path), errors)
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
        if not (in_region(minx, miny) and in_region(maxx, maxy)):
            raise InvalidData(f"{path}: feature {code} lies outside the region: wrong CRS or swapped axes?")
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


def _import_inputs_read(
    *, divisions_csv: Path, districts_geojson: Path, municipality_geojson: Path, clusters_json: Path, datum: str
) -> tuple[dict[str, str], list[dict], dict[str, tuple[str, object]], dict[str, tuple[str, object]]]:
    """Read and cross-check the import's files: {district code: cluster slug}, the CSV rows, and
    the municipality's and the districts' polygons by code. InvalidData names the first problem."""
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
    return district_cluster, rows, municipality, district_polygons


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
    try:
        district_cluster, rows, municipality, district_polygons = _import_inputs_read(
            divisions_csv=divisions_csv,
            districts_geojson=districts_geojson,
            municipality_geojson=municipality_geojson,
            clusters_json=clusters_json,
            datum=datum,
        )
    except InvalidData as exc:
        logger.info("division import of %s refused: %s", divisions_csv, exc.message)
        raise

    report = ImportReport()
    polygon_fields = ["name", "level", "kind", "parent", "cluster", "geom", "is_synthetic", "source", "source_datum"]
    name, geom = municipality[MUNICIPALITY_CODE]
    _upsert(
        rows=[
            Division(
                code=MUNICIPALITY_CODE,
                name=name or MUNICIPALITY_NAME,
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

    sql.execute(POLYGON_MEASURES_SQL)
    division_pieces_rebuild()
    logger.info("division import of %s: %s", divisions_csv, report)
    divisions_changed.send(sender=Division)
    return report


@transaction.atomic
def division_pieces_rebuild(*, division_ids: list[int] | None = None) -> int:
    """Recut the polygons of the given divisions (default: all) into indexed pieces of at most
    DivisionPiece.MAX_VERTICES vertices; return the number of pieces written."""
    old = (
        DivisionPiece.objects.all()
        if division_ids is None
        else DivisionPiece.objects.filter(division_id__in=division_ids)
    )
    old.delete()
    pieces = sql.execute(PIECES_SQL, {"ids": division_ids, "max_vertices": DivisionPiece.MAX_VERTICES})
    logger.info(
        "division pieces rebuilt: %d pieces for %s",
        pieces,
        "all divisions" if division_ids is None else f"{len(division_ids)} division(s)",
    )
    return pieces
