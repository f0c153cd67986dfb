"""Deterministic generation of what the real data lacks: township/street polygons, village and
community locations, and their population. Same seed, same output; every row it writes has
``is_synthetic = true`` and ``source_datum = 'generated'``.

- Township seats: streets (街道) cluster around the district seat, towns and townships (镇, 乡)
  spread over the district (best-candidate sampling). Township polygons are the Voronoi cells of
  the seats clipped to the real district polygon, so together they tile it exactly.
- Communities (社区) cluster around their township's seat; villages (村) spread over the township.
- Population: communities larger than villages, scaled to a municipal total of 32 million; the
  share aged 60+ is drawn around 18% for communities and 24% for villages (about one in five).

Sampling works in lon/lat degrees, scaled east-west by cos(latitude) so clusters are round.
"""

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection, transaction
from psycopg2.extras import execute_values
from shapely.ops import polylabel

from boundaries.models import Division
from boundaries.services import division_pieces_rebuild
from boundaries.signals import divisions_changed
from gis_portal.core import sql
from gis_portal.core.crs import WGS84
from gis_portal.core.errors import InvalidData
from gis_portal.core.geo import polygonal_part

logger = logging.getLogger(__name__)

TOTAL_POPULATION = 32_000_000

# Township polygons (hex WKB) and seats (WKT), for execute_values: VALUES (id, geom, point).
TOWNSHIPS_UPDATE_SQL = sql.compose(
    """
UPDATE {division} d
   SET geom = ST_Multi(ST_SetSRID(ST_GeomFromWKB(decode(g.geom, 'hex')), {srid})),
       point = ST_SetSRID(ST_GeomFromText(g.point), {srid}),
       is_synthetic = true, source_datum = 'generated'
  FROM (VALUES %s) AS g (id, geom, point) WHERE d.id = g.id
""",
    division=Division,
    srid=sql.Literal(WGS84),
)
# Village/community points (WKT) and population, for execute_values: VALUES (id, point, population, elderly).
VILLAGES_UPDATE_SQL = sql.compose(
    """
UPDATE {division} d
   SET point = ST_SetSRID(ST_GeomFromText(g.point), {srid}), population = g.population,
       elderly_population = g.elderly, is_synthetic = true, source_datum = 'generated'
  FROM (VALUES %s) AS g (id, point, population, elderly) WHERE d.id = g.id
""",
    division=Division,
    srid=sql.Literal(WGS84),
)
TOWNSHIP_AREAS_SQL = sql.compose(
    "UPDATE {division} SET area_m2 = ST_Area(geom::geography) WHERE level = 'township'", division=Division
)


@dataclass
class GenerationReport:
    townships: int
    villages: int
    population: int
    elderly_population: int

    def __str__(self) -> str:
        share = self.elderly_population / self.population if self.population else 0
        return (
            f"{self.townships} township polygons, {self.villages} village/community points, "
            f"population {self.population:,} ({share:.1%} aged 60+)"
        )


def _sample_inside(
    rng: np.random.Generator,
    *,
    polygon: shapely.Geometry,
    count: int,
    center: tuple[float, float] | None,
    sigma: float,
    spread: bool,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """``count`` points strictly inside ``polygon``: gaussian around ``center`` (sigma in degrees of
    latitude) or uniform over the polygon; with ``spread``, each point is the best of 8 candidates
    (farthest from the points chosen so far), which keeps neighbours apart."""
    if count == 0:
        return np.empty((0, 2))
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    kx = np.cos(np.radians((miny + maxy) / 2))
    chosen = [] if avoid is None else [tuple(p) for p in avoid]
    result = []
    candidates_per_point = 8 if spread else 1
    pool = np.empty((0, 2))
    for _attempt in range(200):
        if len(result) == count:
            break
        need = (count - len(result)) * candidates_per_point * 4 + 16
        if center is None:
            xy = np.column_stack([rng.uniform(minx, maxx, need), rng.uniform(miny, maxy, need)])
        else:
            xy = np.column_stack([rng.normal(center[0], sigma / kx, need), rng.normal(center[1], sigma, need)])
        pool = np.vstack([pool, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
        while len(result) < count and len(pool) >= candidates_per_point:
            candidates, pool = pool[:candidates_per_point], pool[candidates_per_point:]
            if spread and chosen:
                existing = np.array(chosen)
                dx = (candidates[:, None, 0] - existing[None, :, 0]) * kx
                dy = candidates[:, None, 1] - existing[None, :, 1]
                best = candidates[np.argmax(np.min(dx * dx + dy * dy, axis=1))]
            else:
                best = candidates[0]
            chosen.append(tuple(best))
            result.append(best)
    if len(result) < count:  # a sliver too thin to sample: fall back to points on its surface
        fallback = shapely.get_coordinates(polygon.point_on_surface())[0]
        result.extend([fallback] * (count - len(result)))
    return np.array(result)


def _district_seat(polygon: shapely.Geometry) -> tuple[float, float]:
    """The pole of inaccessibility of the district's largest part: a plausible seat well inside."""
    largest = max(shapely.get_parts(polygon), key=lambda part: part.area)
    seat = polylabel(largest, tolerance=0.001)
    return seat.x, seat.y


def _township_cells(
    rng: np.random.Generator, *, district: shapely.Geometry, townships: list[Division]
) -> tuple[np.ndarray, list[shapely.Geometry]]:
    """Seats and clipped Voronoi cells for the townships of one district, in their order."""
    seat = _district_seat(district)
    scale = np.sqrt(district.area)
    streets = [t for t in townships if t.kind == Division.Kind.STREET]
    seats = np.empty((len(townships), 2))
    street_xy = _sample_inside(rng, polygon=district, count=len(streets), center=seat, sigma=0.12 * scale, spread=True)
    rural_xy = _sample_inside(
        rng,
        polygon=district,
        count=len(townships) - len(streets),
        center=None,
        sigma=0,
        spread=True,
        avoid=street_xy,
    )
    street_iter, rural_iter = iter(street_xy), iter(rural_xy)
    for index, township in enumerate(townships):
        seats[index] = next(street_iter) if township.kind == Division.Kind.STREET else next(rural_iter)
    if len(townships) == 1:
        return seats, [district]
    minx, miny, maxx, maxy = district.bounds
    frame = shapely.box(minx - 1, miny - 1, maxx + 1, maxy + 1)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seats), extend_to=frame, ordered=True)
    clipped = shapely.intersection(np.array(shapely.get_parts(cells)), district)
    return seats, [polygonal_part(cell) for cell in clipped]


def _population(rng: np.random.Generator, *, kinds: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Raw (unscaled) population and the share aged 60+ for villages/communities of given kinds."""
    is_community = np.array([kind == Division.Kind.COMMUNITY for kind in kinds])
    population = np.where(
        is_community, rng.lognormal(np.log(6000), 0.5, len(kinds)), rng.lognormal(np.log(1300), 0.5, len(kinds))
    )
    elderly_share = np.clip(
        np.where(is_community, rng.normal(0.18, 0.03, len(kinds)), rng.normal(0.24, 0.04, len(kinds))), 0.08, 0.45
    )
    return population, elderly_share


@transaction.atomic
def divisions_generate_synthetic(*, seed: int) -> GenerationReport:
    """Generate township polygons, village/community points and population for every district
    that has a real polygon. Deterministic in ``seed``; replaces earlier generated values."""
    districts = list(Division.objects.filter(level=Division.Level.DISTRICT, geom__isnull=False).order_by("code"))
    if not districts:
        logger.info("division generation refused: no district polygons")
        raise InvalidData("no district polygons: import the real divisions first")
    townships_by_district: dict[int, list[Division]] = {}
    for township in Division.objects.filter(level=Division.Level.TOWNSHIP).order_by("code"):
        townships_by_district.setdefault(township.parent_id, []).append(township)
    villages_by_township: dict[int, list[Division]] = {}
    for village in Division.objects.filter(level=Division.Level.VILLAGE).order_by("code"):
        villages_by_township.setdefault(village.parent_id, []).append(village)

    township_rows: list[tuple] = []
    village_rows: list[list] = []
    for district in districts:
        rng = np.random.default_rng([seed, int(district.code)])
        district_polygon = shapely.from_wkb(bytes(district.geom.wkb))
        townships = townships_by_district.get(district.id, [])
        if not townships:
            continue
        seats, cells = _township_cells(rng, district=district_polygon, townships=townships)
        for township, seat, cell in zip(townships, seats, cells, strict=True):
            township_rows.append((township.id, shapely.to_wkb(cell, hex=True), f"POINT({seat[0]} {seat[1]})"))
            villages = villages_by_township.get(township.id, [])
            communities = [v for v in villages if v.kind == Division.Kind.COMMUNITY]
            rural = [v for v in villages if v.kind != Division.Kind.COMMUNITY]
            cell_scale = np.sqrt(cell.area)
            community_xy = _sample_inside(
                rng, polygon=cell, count=len(communities), center=tuple(seat), sigma=0.2 * cell_scale, spread=True
            )
            rural_xy = _sample_inside(
                rng, polygon=cell, count=len(rural), center=None, sigma=0, spread=True, avoid=community_xy
            )
            for village, xy in zip(communities + rural, list(community_xy) + list(rural_xy), strict=True):
                village_rows.append([village.id, village.kind, f"POINT({xy[0]} {xy[1]})"])

    population, elderly_share = _population(np.random.default_rng([seed, 0]), kinds=[row[1] for row in village_rows])
    population = np.round(population * TOTAL_POPULATION / population.sum()).astype(int)
    elderly = np.round(population * elderly_share).astype(int)
    for row, people, old in zip(village_rows, population, elderly, strict=True):
        row[1:] = [row[2], int(people), int(old)]

    # execute_values sends each page of rows as one statement (VALUES lists): it needs the driver's cursor.
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, TOWNSHIPS_UPDATE_SQL, township_rows, page_size=1000)
        execute_values(cursor.cursor, VILLAGES_UPDATE_SQL, village_rows, page_size=2000)
    sql.execute(TOWNSHIP_AREAS_SQL)
    division_pieces_rebuild(division_ids=[row[0] for row in township_rows])
    report = GenerationReport(
        townships=len(township_rows),
        villages=len(village_rows),
        population=int(population.sum()),
        elderly_population=int(elderly.sum()),
    )
    logger.info("generated divisions (seed %d): %s", seed, report)
    divisions_changed.send(sender=Division)
    return report
