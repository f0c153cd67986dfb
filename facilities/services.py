"""Writes of the facilities: creating and moving one (its township, district and village derived
from its point in SQL), and importing many from a file, all or nothing. The admin, the importer and
the generator derive divisions through the same ``facilities_derive_divisions``.

Points are EPSG:4326 (WGS84); GCJ-02 input is rectified on the way in.
"""

import csv
import datetime
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from psycopg2.extras import execute_values

from boundaries.models import Division, DivisionPiece
from facilities.models import CoverageStandard, Facility, NearestFacility
from facilities.selectors import nearest_one
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData, InvalidParameter
from gis_portal.core.geo import SOURCE_DATUMS, read_geojson_features, to_wgs84
from gis_portal.core.region import in_region

logger = logging.getLogger(__name__)

OPEN = Facility.Status.OPEN

# --- derived divisions -------------------------------------------------------------------------

# The township whose polygon covers the point (on a shared edge the lower code), its district, and
# the nearest village/community point of that township (geodesic).
DERIVE_SQL = sql.compose(
    """
UPDATE {facility} f
   SET division_id = hit.township_id, district_id = hit.district_id, village_id = hit.village_id
  FROM (
        SELECT f2.id,
               t.id AS township_id, t.parent_id AS district_id,
               (SELECT v.id FROM {division} v
                 WHERE v.parent_id = t.id AND v.level = 'village' AND v.point IS NOT NULL
                 ORDER BY v.point::geography <-> f2.point::geography LIMIT 1) AS village_id
          FROM {facility} f2
          LEFT JOIN LATERAL (
                SELECT d.id, d.parent_id FROM {piece} p
                  JOIN {division} d ON d.id = p.division_id
                 WHERE p.level = 'township' AND ST_Covers(p.geom, f2.point)
                 ORDER BY d.code LIMIT 1
          ) t ON true
         WHERE %(all)s OR f2.id = ANY(%(ids)s)
  ) hit
 WHERE f.id = hit.id
""",
    facility=Facility,
    division=Division,
    piece=DivisionPiece,
)


def facilities_derive_divisions(*, facility_ids: list[int] | None = None) -> int:
    """Set each facility's township (the one whose polygon covers its point; on a shared edge the
    lower code), district, and village (the nearest village/community point of that township,
    by geodesic distance). A point outside every township gets NULLs. Returns rows updated."""
    return sql.execute(DERIVE_SQL, {"all": facility_ids is None, "ids": facility_ids or []})


# --- the maintained nearest-facility table ---------------------------------------------------------

# Rows for demand points of a category (all that have none, or the given divisions, replaced):
# one KNN pass.
NEAREST_FILL_SQL = """
INSERT INTO {nearest} (category, demand_id, kind, district_id, cluster_id, population, elderly, point,
                       facility_id, distance_m)
SELECT %(category)s, d.id, d.kind, t.parent_id, d.cluster_id, COALESCE(d.population, 0),
       COALESCE(d.elderly_population, 0), d.point, near.facility_id, near.distance_m
  FROM {division} d JOIN {division} t ON t.id = d.parent_id
  LEFT JOIN LATERAL ({nearest_one}) near ON true
 WHERE d.level = 'village' AND d.point IS NOT NULL
   AND (%(division_ids)s::bigint[] IS NULL OR d.id = ANY(%(division_ids)s))
   AND NOT EXISTS (SELECT 1 FROM {nearest} n WHERE n.demand_id = d.id AND n.category = %(category)s)
"""

# Rows that one of the given (new or moved, open) facilities is nearer to than their current
# nearest (ties: the lower id, as a fresh search). A planar distance in degrees times 90,000 is
# below the geodesic metres anywhere south of 35°N (a degree of longitude is at least 91 km
# there), so it prunes the far rows before the spheroid distance is computed.
NEAREST_CLOSER_SQL = """
UPDATE {nearest} n SET facility_id = best.facility_id, distance_m = best.distance_m
  FROM (SELECT DISTINCT ON (n2.id) n2.id AS row_id, f.id AS facility_id,
               ST_Distance(f.point::geography, n2.point::geography) AS distance_m
          FROM {nearest} n2
          JOIN (SELECT id, point FROM {facility}
                 WHERE id = ANY(%(ids)s) AND category = %(category)s AND status = %(open)s) f
            ON n2.distance_m IS NULL OR ST_DWithin(n2.point, f.point, n2.distance_m / 90000.0)
         WHERE n2.category = %(category)s
         ORDER BY n2.id, 3, 2) best
 WHERE n.id = best.row_id
   AND (n.distance_m IS NULL OR best.distance_m < n.distance_m
        OR (best.distance_m = n.distance_m AND best.facility_id < n.facility_id))
"""


def coverage_tracked_categories() -> list[str]:
    """The categories whose nearest facilities are kept: those with an active radius standard."""
    return sorted(
        set(
            CoverageStandard.objects.filter(active=True, kind=CoverageStandard.Kind.RADIUS).values_list(
                "category", flat=True
            )
        )
    )


def _nearest_fill(category: str, division_ids: list[int] | None = None) -> int:
    query = sql.compose(
        NEAREST_FILL_SQL, nearest=NearestFacility, division=Division, nearest_one=nearest_one("d.point")
    )
    return sql.execute(query, {"category": category, "open": OPEN, "division_ids": division_ids})


@transaction.atomic
def coverage_nearest_division_saved(*, sender, instance: Division, **_signal) -> None:
    """A division saved one by one (the admin, a test's fixture; imports send
    ``divisions_changed`` instead): a village's rows are computed again from its current point,
    population and parents, a township's villages' rows too (their district is the township's).
    The receiver of Division's ``post_save``: the boundaries cannot call the facilities, so there
    is no service path."""
    if instance.level == Division.Level.VILLAGE:
        demand_ids = [instance.pk]
    elif instance.level == Division.Level.TOWNSHIP:  # its villages' district may have changed
        demand_ids = list(Division.objects.filter(parent_id=instance.pk).values_list("id", flat=True))
    else:
        return
    NearestFacility.objects.filter(demand_id__in=demand_ids)._raw_delete(NearestFacility.objects.db)
    for category in coverage_tracked_categories():
        _nearest_fill(category, division_ids=demand_ids)


@transaction.atomic
def coverage_nearest_rebuild(**_signal) -> int:
    """Compute the nearest-facility table from scratch: one KNN pass per tracked category (also
    the receiver of ``boundaries.signals.divisions_changed``). Returns the rows written."""
    NearestFacility.objects.all()._raw_delete(NearestFacility.objects.db)
    written = sum(_nearest_fill(category) for category in coverage_tracked_categories())
    sql.execute(sql.compose("ANALYZE {nearest}", nearest=NearestFacility))
    logger.info("nearest-facility table rebuilt: %d rows", written)
    return written


def coverage_nearest_refresh(*, facility_ids: list[int]) -> None:
    """Bring the nearest-facility table up to date after the given facilities were created,
    moved, closed, re-categorised or deleted: rows that pointed at one of them are searched
    again, rows that one of them (now open) is nearer to take it, and demand points without a
    row (new divisions, a category that gained a radius standard) get one.
    Rows of categories no longer tracked are dropped. Call it inside the writing transaction."""
    tracked = coverage_tracked_categories()
    NearestFacility.objects.exclude(category__in=tracked)._raw_delete(NearestFacility.objects.db)
    NearestFacility.objects.filter(facility_id__in=facility_ids)._raw_delete(NearestFacility.objects.db)
    closer = sql.compose(NEAREST_CLOSER_SQL, nearest=NearestFacility, facility=Facility)
    for category in tracked:
        if facility_ids:
            sql.execute(closer, {"ids": facility_ids, "category": category, "open": OPEN})
        _nearest_fill(category)


@transaction.atomic
def coverage_standard_save(*, standard: CoverageStandard) -> CoverageStandard:
    """Save a coverage standard (the admin's path) and keep the nearest-facility table in step:
    a category that gains an active radius standard is filled, one that loses it dropped."""
    standard.save()
    coverage_nearest_refresh(facility_ids=[])
    return standard


@transaction.atomic
def facility_create(*, name: str, category: str, point: Point, **fields) -> Facility:
    """Create a facility and derive its divisions from its point."""
    facility = Facility.objects.create(name=name, category=category, point=point, **fields)
    facilities_derive_divisions(facility_ids=[facility.pk])
    coverage_nearest_refresh(facility_ids=[facility.pk])
    facility.refresh_from_db(fields=["division", "district", "village"])
    return facility


@transaction.atomic
def facility_update(*, facility: Facility, **fields) -> Facility:
    """Change a facility's fields; a new point derives its divisions again, and a new point,
    status or category updates the nearest-facility table."""
    for name, value in fields.items():
        setattr(facility, name, value)
    facility.save(update_fields=list(fields))
    if "point" in fields:
        facilities_derive_divisions(facility_ids=[facility.pk])
        facility.refresh_from_db(fields=["division", "district", "village"])
    if {"point", "status", "category"} & set(fields):
        coverage_nearest_refresh(facility_ids=[facility.pk])
    return facility


def facility_close(*, facility: Facility) -> Facility:
    """Close a facility: it no longer covers anything."""
    return facility_update(facility=facility, status=Facility.Status.CLOSED)


# --- import ---------------------------------------------------------------------------------------

INSERT_SQL = sql.compose(
    "INSERT INTO {facility} (name, category, operator, beds, status, address, opening_date, point,"
    " is_synthetic, source, source_datum) VALUES %s RETURNING id",
    facility=Facility,
)

CSV_REQUIRED = ("name", "category", "lon", "lat")


@dataclass
class FacilityImportReport:
    created: int = 0
    replaced: int = 0
    by_category: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        cats = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_category.items()))
        return f"{self.created} facilities imported ({cats}); {self.replaced} replaced"


def _clean_row(raw: dict, *, where: str, default_datum: str, errors: list[str]) -> dict | None:
    """Validate one input record (properties plus lon/lat, given in ``datum``) into model values;
    append a message naming ``where`` (line or feature) to ``errors`` and return None if bad."""

    def fail(message: str) -> None:
        errors.append(f"{where}: {message}")

    def text(key: str) -> str:
        value = raw.get(key)
        return "" if value is None else str(value).strip()

    name, category = text("name"), text("category")
    if not name:
        return fail("name is empty")
    if category not in Facility.Category.values:
        return fail(f"category {category!r} is not one of {', '.join(Facility.Category.values)}")
    operator = text("operator") or Facility.Operator.PUBLIC
    if operator not in Facility.Operator.values:
        return fail(f"operator {operator!r} is not one of {', '.join(Facility.Operator.values)}")
    status = text("status") or OPEN
    if status not in Facility.Status.values:
        return fail(f"status {status!r} is not one of {', '.join(Facility.Status.values)}")
    beds = None
    if text("beds"):
        try:
            beds = int(float(text("beds")))
        except ValueError:
            return fail(f"beds {text('beds')!r} is not a number")
        if beds < 0:
            return fail("beds is negative")
    opening = None
    if text("opening_date"):
        try:
            opening = datetime.date.fromisoformat(text("opening_date")[:10])
        except ValueError:
            return fail(f"opening_date {text('opening_date')!r} is not YYYY-MM-DD")
    datum = text("datum") or default_datum
    if datum not in SOURCE_DATUMS:
        return fail(f"datum {datum!r} is not one of {', '.join(SOURCE_DATUMS)}")
    try:
        lon, lat = float(raw["lon"]), float(raw["lat"])
    except (KeyError, TypeError, ValueError):
        return fail(f"lon/lat {raw.get('lon')!r}, {raw.get('lat')!r} are not numbers")
    if not (math.isfinite(lon) and math.isfinite(lat) and in_region(lon, lat)):
        return fail(f"({lon}, {lat}) is far outside Chongqing (swapped axes or a projected CRS?)")
    point = to_wgs84(shapely.Point(lon, lat), datum=datum)
    return {
        "name": name[:128],
        "category": category,
        "operator": operator,
        "beds": beds,
        "status": status,
        "address": text("address")[:255],
        "opening_date": opening,
        "lon": point.x,
        "lat": point.y,
        "source_datum": datum,
        "is_synthetic": text("is_synthetic").lower() in {"1", "true", "yes"},
    }


def _read_records(path: Path) -> list[tuple[str, dict]]:
    """(where, record) pairs of a CSV (lon/lat columns; line numbers as in the file), GeoJSON
    (Point features) or GeoPackage (points, reprojected to EPSG:4326 from the layer's CRS)."""
    import pyogrio  # here, not at the top: it loads pandas and geopandas (~80 MB) into every worker

    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidData(f"{path.name}: cannot read as UTF-8 CSV ({exc})") from exc
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in CSV_REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidData(f"{path.name}: missing column(s) {', '.join(missing)}")
        return [(f"line {reader.line_num}", row) for row in reader]
    if suffix in (".geojson", ".json"):
        records = []
        for index, (props, geom) in enumerate(read_geojson_features(path), start=1):
            record = dict(props)
            if geom.geom_type == "Point":
                record["lon"], record["lat"] = geom.x, geom.y
            else:
                record["lon"] = record["lat"] = f"<{geom.geom_type}>"
            records.append((f"feature {index}", record))
        return records
    if suffix == ".gpkg":
        try:
            frame = pyogrio.read_dataframe(path)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
            raise InvalidData(f"{path.name}: not a readable GeoPackage ({exc})") from exc
        if frame.crs is None:
            raise InvalidData(f"{path.name}: the layer has no CRS; give it one (EPSG:4326 or 4490)")
        frame = frame.to_crs(WGS84)
        records = []
        for index, row in enumerate(frame.to_dict("records"), start=1):
            geom = row.pop("geometry")
            if geom is not None and geom.geom_type == "Point":
                row["lon"], row["lat"] = geom.x, geom.y
            row = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in row.items()}
            records.append((f"row {index}", row))
        return records
    raise InvalidData(f"{path.name}: unsupported file type; use .csv, .geojson or .gpkg")


@transaction.atomic
def facilities_import(
    *, path: Path, datum: str = "WGS84", source: str = "", replace: bool = False
) -> FacilityImportReport:
    """Import facilities from a CSV, GeoJSON or GeoPackage file, all or nothing.

    CSV columns: name, category, lon, lat, and optionally operator, beds, status, address,
    opening_date (YYYY-MM-DD) and datum (WGS84, CGCS2000 or GCJ-02; default ``datum``). GCJ-02
    points are rectified to WGS84. Every bad record is reported with its line (or feature/row)
    number and nothing is written; so is a point outside Chongqing's townships. With ``replace``,
    the facilities previously imported from the same ``source`` (default: the file name) are
    deleted first, which makes a re-import idempotent."""
    path = Path(path)
    if datum not in SOURCE_DATUMS:
        raise InvalidParameter(f"datum {datum!r} is not one of {', '.join(SOURCE_DATUMS)}")
    source = source or path.name
    errors: list[str] = []
    rows: list[tuple[str, dict]] = []
    for where, record in _read_records(path):
        clean = _clean_row(record, where=where, default_datum=datum, errors=errors)
        if clean:
            rows.append((where, clean))
    if not rows and not errors:
        raise InvalidData(f"{path.name}: no facilities in the file")
    if errors:
        logger.info("facility import of %s refused: %d bad records", path.name, len(errors))
        raise InvalidData.from_lines(path.name, errors, what="record")
    report = FacilityImportReport()
    if replace:
        report.replaced, _ = Facility.objects.filter(source=source).delete()
    with connection.cursor() as cursor:
        ids = execute_values(
            cursor.cursor,  # psycopg2's own cursor: execute_values renders the composed SQL with it
            INSERT_SQL,
            [
                (
                    r["name"],
                    r["category"],
                    r["operator"],
                    r["beds"],
                    r["status"],
                    r["address"],
                    r["opening_date"],
                    r["lon"],
                    r["lat"],
                    WGS84,
                    r["is_synthetic"],
                    source,
                    r["source_datum"],
                )
                for _, r in rows
            ],
            template="(%s, %s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), %s), %s, %s, %s)",
            fetch=True,
            page_size=1000,
        )
    ids = [row[0] for row in ids]
    facilities_derive_divisions(facility_ids=ids)
    outside = set(Facility.objects.filter(id__in=ids, division__isnull=True).values_list("id", flat=True))
    if outside:
        where_of = {i: where for (where, _), i in zip(rows, ids, strict=True)}
        problems = [f"{where_of[i]}: the point is outside Chongqing" for i in ids if i in outside]
        logger.info("facility import of %s refused: %d points outside Chongqing", path.name, len(problems))
        raise InvalidData.from_lines(path.name, problems, what="record")
    sql.execute(sql.compose("ANALYZE {facility}", facility=Facility))
    coverage_nearest_refresh(facility_ids=ids)
    report.created = len(ids)
    for _, r in rows:
        report.by_category[r["category"]] = report.by_category.get(r["category"], 0) + 1
    logger.info("facility import of %s: %s", path.name, report)
    return report


def facilities_divisions_replaced(*, replaced: dict[int, int], **_signal) -> None:
    """Receiver of ``boundaries.signals.divisions_replaced``: the facilities of a township merged
    into another now lie in that other (the boundaries cannot call the facilities)."""
    for old_id, new_id in replaced.items():
        Facility.objects.filter(division_id=old_id).update(division_id=new_id)


def facilities_division_split(*, division: Division, **_signal) -> None:
    """Receiver of ``boundaries.signals.division_split``: the facilities of the township split are
    placed again from their points (township, district and nearest village, as
    ``facilities_derive_divisions`` places every facility): those in the part cut off go to the new
    unit, and those that stay may have another nearest village."""
    ids = list(Facility.objects.filter(division=division).values_list("id", flat=True))
    if ids:
        facilities_derive_divisions(facility_ids=ids)
