"""The CRS table and the region's constants: Gauss-Krüger zones in both encodings, the region's
bounding box, division-code validators. No database."""

import pytest
from django.core.exceptions import ValidationError

from gis_portal.core.crs import (
    GK_CENTRAL_MERIDIAN,
    GK_WITH_ZONE,
    SURVEY_CRS,
    gauss_kruger_srid,
    gauss_kruger_zone_range,
)
from gis_portal.core.region import division_code_validator, in_region


def test_zone_of_a_longitude():
    lons = (105.2, 106.4, 106.6, 108.0, 109.4, 109.6)
    assert [gauss_kruger_srid(lon=lon) for lon in lons] == [4544, 4544, 4545, 4545, 4545, 4546]


def test_the_two_encodings_name_the_same_zones():
    # Zone 35 (with prefix, EPSG:4523) has its central meridian at 105°E (EPSG:4544 without prefix).
    assert GK_WITH_ZONE[4523] == 35 and GK_CENTRAL_MERIDIAN[4544] == 105
    assert all(GK_CENTRAL_MERIDIAN[code + 21] == 3 * zone for code, zone in GK_WITH_ZONE.items())
    assert gauss_kruger_zone_range(4523) == (35_000_000, 36_000_000)
    assert gauss_kruger_zone_range(4544) == (0, 1_000_000)
    assert {4326, 4490, 4513, 4533, 4534, 4554} <= SURVEY_CRS and 4512 not in SURVEY_CRS and 4555 not in SURVEY_CRS


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [(106.55, 29.56, True), (105.0, 27.5, True), (110.8, 32.7, True), (104.9, 29.5, False), (29.56, 106.55, False)],
)
def test_region_bounding_box(lon, lat, inside):
    assert in_region(lon, lat) is inside


def test_division_code_validators_name_their_levels():
    district = division_code_validator("district")
    district("500103")
    with pytest.raises(ValidationError, match="a 6-digit division code"):
        district("500103001")
    any_level = division_code_validator("district", "township", "village")
    for code in ("500103", "500103001", "500103001001"):
        any_level(code)
    with pytest.raises(ValidationError, match="a 6, 9 or 12-digit division code"):
        any_level("5001030010")
