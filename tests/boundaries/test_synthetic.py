"""The generated data: township polygons tile their real district, villages lie in their
township, population is plausible, and the same seed gives the same output."""

import pytest
from django.conf import settings

from boundaries.models import Division
from boundaries.synthetic import divisions_generate_synthetic
from tests.boundaries.queries import row, rows, scalar

pytestmark = pytest.mark.django_db


def test_generated_rows_are_flagged():
    assert not Division.objects.filter(level__in=["township", "village"], is_synthetic=False).exists()
    assert not Division.objects.filter(level__in=["municipality", "district"], is_synthetic=True).exists()
    assert set(Division.objects.filter(level="township").values_list("source_datum", flat=True)) == {"generated"}


def test_townships_tile_their_district():
    per_district = rows(
        """
        SELECT d.code, d.area_m2 AS district_m2, sum(t.area_m2) AS townships_m2,
               sum(ST_Area(ST_Difference(t.geom, d.geom)::geography)) AS outside_m2
          FROM {division} d JOIN {division} t ON t.parent_id = d.id
         WHERE d.level = 'district' GROUP BY d.id
        """
    )
    assert len(per_district) == 38
    for district in per_district:
        relative_gap = abs(district["townships_m2"] - district["district_m2"]) / district["district_m2"]
        assert relative_gap < 1e-6, district["code"]
        # Lies inside its district (floating-point noise only).
        assert district["outside_m2"] < 1.0, district["code"]
    overlap_m2 = scalar(
        """
        SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
          FROM {division} a JOIN {division} b
            ON a.parent_id = b.parent_id AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
         WHERE a.level = 'township' AND b.level = 'township'
        """
    )
    assert overlap_m2 < 10.0  # summed over 1,031 townships of 82,400 km²


def test_every_village_point_lies_in_its_township():
    outside = scalar(
        """
        SELECT count(*) FROM {division} v JOIN {division} t ON v.parent_id = t.id
         WHERE v.level = 'village' AND NOT ST_Covers(t.geom, v.point)
        """
    )
    assert outside == 0
    assert not Division.objects.filter(level="village", point__isnull=True).exists()


def test_population_is_plausible():
    population = row(
        """
        SELECT sum(population) AS total, sum(elderly_population) AS elderly,
               avg(population) FILTER (WHERE kind = 'community') AS community_mean,
               avg(population) FILTER (WHERE kind = 'village') AS village_mean
          FROM {division} WHERE level = 'village'
        """
    )
    assert 31_500_000 < population["total"] < 32_500_000
    assert 0.18 < population["elderly"] / population["total"] < 0.23
    assert population["community_mean"] > 3 * population["village_mean"]


def test_communities_cluster_near_their_township_seat():
    mean_m = row(
        """
        SELECT avg(ST_Distance(v.point::geography, t.point::geography)) FILTER (WHERE v.kind = 'community')
                   AS community,
               avg(ST_Distance(v.point::geography, t.point::geography)) FILTER (WHERE v.kind = 'village') AS village
          FROM {division} v JOIN {division} t ON v.parent_id = t.id WHERE v.level = 'village'
        """
    )
    assert mean_m["community"] < 0.6 * mean_m["village"]


FINGERPRINT = """
    SELECT md5(string_agg(code || coalesce(ST_AsText(geom), '') || ST_AsText(point) || coalesce(population, 0),
                          ',' ORDER BY code))
      FROM {division} WHERE level IN ('township', 'village')
"""


def test_same_seed_same_output_and_another_seed_differs():
    loaded = scalar(FINGERPRINT)
    divisions_generate_synthetic(seed=settings.SYNTHETIC_SEED)
    assert scalar(FINGERPRINT) == loaded
    divisions_generate_synthetic(seed=settings.SYNTHETIC_SEED + 1)
    assert scalar(FINGERPRINT) != loaded
