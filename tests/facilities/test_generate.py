"""The generated facilities: deterministic in the seed, flagged, and each inside its township."""

import pytest
from django.conf import settings
from django.db import connection

from facilities.models import Facility
from facilities.synthetic import facilities_generate_synthetic

pytestmark = pytest.mark.django_db


def snapshot() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, category, status, beds, round(ST_X(point)::numeric, 7), round(ST_Y(point)::numeric, 7)"
            " FROM facilities_facility WHERE is_synthetic"
        )
        return set(cursor.fetchall())


def test_same_seed_same_facilities_and_each_in_its_township():
    loaded = snapshot()
    report = facilities_generate_synthetic(seed=settings.SYNTHETIC_SEED)
    assert snapshot() == loaded and sum(report.by_category.values()) == len(loaded)
    assert not Facility.objects.filter(is_synthetic=True, division__isnull=True).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM facilities_facility f JOIN boundaries_division t ON t.id = f.division_id"
            " WHERE f.is_synthetic AND NOT ST_Covers(t.geom, f.point)"
        )
        assert cursor.fetchone()[0] == 0
    assert facilities_generate_synthetic(seed=1) and snapshot() != loaded
