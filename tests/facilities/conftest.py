"""A small constructed district where every answer can be checked by hand.

It lies at 105.0-105.2°E, 27.6-27.8°N (inside the region's bounding box, but well south-west of the
municipality, so no real division or generated facility is near it): district 509901 with a street
509901001 (west half) and a town 509901002 (east half). Around the point S = (105.05, 27.65), geodesic
offsets on the WGS84 spheroid:

| code         | kind      | where                | population | aged 60+ |
| 509901001001 | community | 999 m north of S     | 1000       | 200      |
| 509901001002 | community | 1001 m east of S     | 2000       | 500      |
| 509901001003 | community | 5000 m south of S    | 500        | 100      |
| 509901002001 | village   | (105.15, 27.7), town | 300        | 90       |
"""

from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from pyproj import Geod

from boundaries.models import Division
from boundaries.services import division_pieces_rebuild
from facilities.models import Facility
from facilities.services import facility_create

GEOD = Geod(ellps="WGS84")
S = (105.05, 27.65)


def offset(point: tuple[float, float], *, azimuth: float, metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(point[0], point[1], azimuth, metres)
    return lon, lat


def box(minx, miny, maxx, maxy) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((minx, miny, maxx, maxy)), srid=4326)


@pytest.fixture
def scene(db):
    municipality = Division.objects.get(level="municipality")
    district = Division.objects.create(
        code="509901", name="测试区", level="district", kind="district", parent=municipality,
        cluster_id="urban_core", geom=box(105.0, 27.6, 105.2, 27.8), point=Point(105.1, 27.7, srid=4326),
    )  # fmt: skip
    street = Division.objects.create(
        code="509901001", name="测试街道", level="township", kind="street", parent=district,
        cluster_id="urban_core", geom=box(105.0, 27.6, 105.1, 27.8), point=Point(105.05, 27.7, srid=4326),
    )  # fmt: skip
    town = Division.objects.create(
        code="509901002", name="测试镇", level="township", kind="town", parent=district,
        cluster_id="urban_core", geom=box(105.1, 27.6, 105.2, 27.8), point=Point(105.15, 27.75, srid=4326),
    )  # fmt: skip
    places = {
        "a": ("509901001001", "甲社区居民委员会", "community", street, offset(S, azimuth=0, metres=999), 1000, 200),
        "b": ("509901001002", "乙社区居民委员会", "community", street, offset(S, azimuth=90, metres=1001), 2000, 500),
        "c": ("509901001003", "丙社区居民委员会", "community", street, offset(S, azimuth=180, metres=5000), 500, 100),
        "v": ("509901002001", "丁村村民委员会", "village", town, (105.15, 27.7), 300, 90),
    }
    villages = {}
    for key, (code, name, kind, parent, (lon, lat), population, elderly) in places.items():
        villages[key] = Division.objects.create(
            code=code, name=name, level="village", kind=kind, parent=parent, cluster_id="urban_core",
            point=Point(lon, lat, srid=4326), population=population, elderly_population=elderly, is_synthetic=True,
        )  # fmt: skip
    division_pieces_rebuild(division_ids=[district.id, street.id, town.id])
    return SimpleNamespace(district=district, street=street, town=town, **villages)


@pytest.fixture
def add_facility():
    def add(category: str, lon: float, lat: float, **fields) -> Facility:
        return facility_create(
            name=fields.pop("name", f"test {category}"), category=category, point=Point(lon, lat, srid=4326), **fields
        )

    return add
