"""Deterministic generation of facilities for the demo (same seed, same output; every row has
``is_synthetic = true`` and ``source_datum = 'generated'``). Plausible, with real gaps to find:

- community elder-care stations at about three in four communities (fewer in a few districts),
  within 400 m of the community, so most but not all communities are within 1,000 m of one;
- an elder-care centre in most townships and streets; a funeral home in every district but a few;
- public cemeteries in about 70% of rural townships, rural care homes in about 60%;
- elder-care institutions whose beds per 1,000 aged 60+ range from well under to above 40;
- a community service centre at almost every village and community.

Offsets are drawn in metres and turned into degrees with the local scale (cos(latitude)); a
generated point that falls outside every township (near the municipal border) is dropped.
"""

import logging
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from psycopg2.extras import execute_values

from boundaries.models import Division
from facilities.models import Facility, NearestFacility
from facilities.services import coverage_nearest_rebuild, facilities_derive_divisions
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData

logger = logging.getLogger(__name__)

SOURCE = "generated for the demo (facilities.synthetic)"
C = Facility.Category

DISTRICTS_SQL = sql.compose(
    "SELECT id, code, name FROM {division} WHERE level = 'district' AND geom IS NOT NULL ORDER BY code",
    division=Division,
)
TOWNSHIPS_SQL = sql.compose(
    "SELECT id, name, kind, parent_id, ST_X(point) AS lon, ST_Y(point) AS lat FROM {division}"
    " WHERE level = 'township' AND point IS NOT NULL ORDER BY code",
    division=Division,
)
VILLAGES_SQL = sql.compose(
    "SELECT v.id, v.name, v.kind, t.parent_id AS district_id, ST_X(v.point) AS lon, ST_Y(v.point) AS lat,"
    " COALESCE(v.elderly_population, 0) AS elderly"
    " FROM {division} v JOIN {division} t ON t.id = v.parent_id"
    " WHERE v.level = 'village' AND v.point IS NOT NULL ORDER BY v.code",
    division=Division,
)
INSERT_SQL = sql.compose(
    "INSERT INTO {facility} (name, category, operator, beds, status, address, opening_date, point,"
    " is_synthetic, source, source_datum) VALUES %s",
    facility=Facility,
)


@dataclass
class FacilityGenerationReport:
    by_category: dict[str, int]
    dropped: int

    def __str__(self) -> str:
        cats = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_category.items()))
        return f"{sum(self.by_category.values())} synthetic facilities ({cats}); {self.dropped} outside dropped"


def _short(name: str) -> str:
    for suffix in ("居民委员会", "村民委员会", "委员会"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class _Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.rows: list[tuple] = []

    def jitter(self, lon: float, lat: float, max_m: float) -> tuple[float, float]:
        distance = max_m * np.sqrt(self.rng.uniform())
        angle = self.rng.uniform(0, 2 * np.pi)
        dlat = distance * np.sin(angle) / 110_574.0
        dlon = distance * np.cos(angle) / (111_320.0 * np.cos(np.radians(lat)))
        return float(lon + dlon), float(lat + dlat)

    def add(self, *, name: str, category: str, lon: float, lat: float, max_m: float, beds: int | None = None) -> None:
        rng = self.rng
        lon, lat = self.jitter(lon, lat, max_m)
        operator = rng.choice(["public", "private", "public_private"], p=[0.6, 0.25, 0.15])
        if category in (C.FUNERAL_HOME, C.CEMETERY, C.ELDER_CENTRE, C.RURAL_CARE_HOME, C.SERVICE_CENTRE):
            operator = "public" if rng.uniform() < 0.85 else "public_private"
        status = rng.choice(["open", "planned", "closed"], p=[0.95, 0.04, 0.01])
        opened = np.datetime64("2000-01-01") + int(rng.integers(0, 7300))
        self.rows.append((name, category, str(operator), beds, str(status), "", str(opened), lon, lat, WGS84))


@transaction.atomic
def facilities_generate_synthetic(*, seed: int) -> FacilityGenerationReport:
    """Replace the generated facilities with a fresh, deterministic set (see the module doc)."""

    districts = [(r["id"], r["code"], r["name"]) for r in sql.rows(DISTRICTS_SQL)]
    townships = [(r["id"], r["name"], r["kind"], r["parent_id"], r["lon"], r["lat"]) for r in sql.rows(TOWNSHIPS_SQL)]
    villages = [
        (r["id"], r["name"], r["kind"], r["district_id"], r["lon"], r["lat"], r["elderly"])
        for r in sql.rows(VILLAGES_SQL)
    ]
    if not districts or not villages:
        raise InvalidData("no generated divisions: run import_divisions and generate_divisions first")
    NearestFacility.objects.all()._raw_delete(NearestFacility.objects.db)  # rebuilt below
    Facility.objects.filter(is_synthetic=True).delete()
    b = _Builder(seed)
    rng = b.rng
    codes = [d[1] for d in districts]
    no_funeral = set(rng.choice(codes, size=3, replace=False).tolist())
    weak_stations = set(rng.choice(codes, size=4, replace=False).tolist())
    code_of = {d[0]: d[1] for d in districts}

    for _vid, name, kind, district_id, lon, lat, _elderly in villages:
        short = _short(name)
        if kind == Division.Kind.COMMUNITY:
            rate = 0.35 if code_of[district_id] in weak_stations else 0.8
            if rng.uniform() < rate:
                b.add(name=f"{short}养老服务站", category=C.ELDER_STATION, lon=lon, lat=lat, max_m=400)
        if rng.uniform() < 0.93:
            b.add(name=f"{short}综合服务中心", category=C.SERVICE_CENTRE, lon=lon, lat=lat, max_m=40)

    rural_by_district: dict[int, list[tuple]] = {}
    for _tid, name, kind, district_id, lon, lat in townships:
        rural = kind in (Division.Kind.TOWN, Division.Kind.TOWNSHIP)
        if rural:
            rural_by_district.setdefault(district_id, []).append((name, lon, lat))
        if rng.uniform() < (0.85 if rural else 0.95):
            b.add(name=f"{name}养老服务中心", category=C.ELDER_CENTRE, lon=lon, lat=lat, max_m=150)
        if rural and rng.uniform() < 0.7:
            b.add(name=f"{name}公益性公墓", category=C.CEMETERY, lon=lon, lat=lat, max_m=300)
        if rural and rng.uniform() < 0.6:
            beds = int(rng.integers(20, 121))
            b.add(name=f"{name}敬老院", category=C.RURAL_CARE_HOME, lon=lon, lat=lat, max_m=200, beds=beds)

    villages_by_district: dict[int, list[tuple]] = {}
    for row in villages:
        villages_by_district.setdefault(row[3], []).append(row)
    for did, code, name in districts:
        short = name.removesuffix("区").removesuffix("县") if len(name) > 2 else name
        sites = rural_by_district.get(did) or [(t[1], t[4], t[5]) for t in townships if t[3] == did]
        if code not in no_funeral and sites:
            site = sites[int(rng.integers(len(sites)))]
            b.add(name=f"{short}殡仪馆", category=C.FUNERAL_HOME, lon=site[1], lat=site[2], max_m=300)
        if sites and rng.uniform() < 0.4:
            site = sites[int(rng.integers(len(sites)))]
            b.add(name=f"{short}骨灰堂", category=C.COLUMBARIUM, lon=site[1], lat=site[2], max_m=300)
        local = villages_by_district.get(did, [])
        elderly = sum(v[6] for v in local)
        target = elderly * 40 / 1000 * rng.uniform(0.55, 1.4)
        placed = 0
        number = 0
        while placed < target and local:
            number += 1
            v = local[int(rng.integers(len(local)))]
            beds = int(rng.integers(40, 401))
            b.add(
                name=f"{short}{_short(v[1])}养老院{number}号", category=C.ELDER_INSTITUTION,
                lon=v[4], lat=v[5], max_m=500, beds=beds,
            )  # fmt: skip
            placed += beds

    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,  # psycopg2's own cursor: execute_values renders the composed SQL with it
            INSERT_SQL,
            [(*row, SOURCE) for row in b.rows],
            template="(%s, %s, %s, %s, %s, %s, %s::date, ST_SetSRID(ST_MakePoint(%s, %s), %s), true, %s, 'generated')",
            page_size=2000,
        )
    facilities_derive_divisions(
        facility_ids=list(Facility.objects.filter(is_synthetic=True).values_list("id", flat=True))
    )
    dropped, _ = Facility.objects.filter(is_synthetic=True, division__isnull=True).delete()
    # Fresh statistics, or the planner misses the geography index (seconds instead of ms).
    sql.execute(sql.compose("ANALYZE {facility}; ANALYZE {division}", facility=Facility, division=Division))
    coverage_nearest_rebuild()
    counts: dict[str, int] = {}
    for category in Facility.objects.filter(is_synthetic=True).values_list("category", flat=True):
        counts[category] = counts.get(category, 0) + 1
    report = FacilityGenerationReport(by_category=counts, dropped=dropped)
    logger.info("%s", report)
    return report
