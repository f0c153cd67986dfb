"""The generated data: township polygons tile their real district, villages lie in their
township, population is plausible, and the same seed gives the same output."""

import pytest
from django.conf import settings
from django.db import connection

from boundaries.models import Division
from boundaries.synthetic import divisions_generate_synthetic

pytestmark = pytest.mark.django_db


def rows(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_generated_rows_are_flagged():
    assert not Division.objects.filter(level__in=["township", "village"], is_synthetic=False).exists()
    assert not Division.objects.filter(level__in=["municipality", "district"], is_synthetic=True).exists()
    assert set(Division.objects.filter(level="township").values_list("source_datum", flat=True)) == {"generated"}


def test_townships_tile_their_district():
    per_district = rows(
        """
        SELECT d.code, d.area_m2, sum(t.area_m2),
               sum(ST_Area(ST_Difference(t.geom, d.geom)::geography))
          FROM boundaries_division d JOIN boundaries_division t ON t.parent_id = d.id
         WHERE d.level = 'district' GROUP BY d.id
        """
    )
    assert len(per_district) == 38
    for code, district_m2, townships_m2, outside_m2 in per_district:
        assert abs(townships_m2 - district_m2) / district_m2 < 1e-6, code
        assert outside_m2 < 1.0, code  # lies inside its district (floating-point noise only)
    (overlap_m2,) = rows(
        """
        SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
          FROM boundaries_division a JOIN boundaries_division b
            ON a.parent_id = b.parent_id AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
         WHERE a.level = 'township' AND b.level = 'township'
        """
    )[0]
    assert overlap_m2 < 10.0  # summed over 1,031 townships of 82,400 km²


def test_every_village_point_lies_in_its_township():
    (outside,) = rows(
        """
        SELECT count(*) FROM boundaries_division v JOIN boundaries_division t ON v.parent_id = t.id
         WHERE v.level = 'village' AND NOT ST_Covers(t.geom, v.point)
        """
    )[0]
    assert outside == 0
    assert not Division.objects.filter(level="village", point__isnull=True).exists()


def test_population_is_plausible():
    (total, elderly, community_mean, village_mean) = rows(
        """
        SELECT sum(population), sum(elderly_population),
               avg(population) FILTER (WHERE kind = 'community'), avg(population) FILTER (WHERE kind = 'village')
          FROM boundaries_division WHERE level = 'village'
        """
    )[0]
    assert 31_500_000 < total < 32_500_000
    assert 0.18 < elderly / total < 0.23
    assert community_mean > 3 * village_mean


def test_communities_cluster_near_their_township_seat():
    (community_m, village_m) = rows(
        """
        SELECT avg(ST_Distance(v.point::geography, t.point::geography)) FILTER (WHERE v.kind = 'community'),
               avg(ST_Distance(v.point::geography, t.point::geography)) FILTER (WHERE v.kind = 'village')
          FROM boundaries_division v JOIN boundaries_division t ON v.parent_id = t.id WHERE v.level = 'village'
        """
    )[0]
    assert community_m < 0.6 * village_m


FINGERPRINT = """
    SELECT md5(string_agg(code || coalesce(ST_AsText(geom), '') || ST_AsText(point) || coalesce(population, 0),
                          ',' ORDER BY code))
      FROM boundaries_division WHERE level IN ('township', 'village')
"""


def test_same_seed_same_output_and_another_seed_differs():
    loaded = rows(FINGERPRINT)[0][0]
    divisions_generate_synthetic(seed=settings.SYNTHETIC_SEED)
    assert rows(FINGERPRINT)[0][0] == loaded
    divisions_generate_synthetic(seed=settings.SYNTHETIC_SEED + 1)
    assert rows(FINGERPRINT)[0][0] != loaded
