"""The region the service covers, as constants every app shares: the municipality's code, the one
bounding box "near Chongqing", and the statistical division codes of each level.
"""

from django.core.validators import RegexValidator

MUNICIPALITY_CODE = "500000"
MUNICIPALITY_NAME = "重庆市"
# Where data of Chongqing can lie: the municipality (105.29-110.20°E, 28.16-32.20°N) with a margin of
# about 50 km, in WGS84 (minlon, minlat, maxlon, maxlat). Coordinates outside it are in the wrong CRS,
# have swapped axes, or are elsewhere.
REGION_BOUNDS = (105.0, 27.5, 110.8, 32.7)

# Statistical division codes: 6 digits for a district/county, 9 for a township/street, 12 for a
# village/community; each starts with its parent's code.
CODE_DIGITS = {"municipality": 6, "district": 6, "township": 9, "village": 12}


def in_region(lon: float, lat: float) -> bool:
    west, south, east, north = REGION_BOUNDS
    return west <= lon <= east and south <= lat <= north


def division_code_pattern(*levels: str) -> str:
    """A regular expression matching the codes of the given division levels (e.g. 6 or 9 digits)."""
    lengths = sorted({CODE_DIGITS[level] for level in levels})
    return "^(" + "|".join(f"[0-9]{{{n}}}" for n in lengths) + ")$"


def division_code_validator(*levels: str) -> RegexValidator:
    """A validator of division codes of the given levels, with a message that names them."""
    lengths = sorted({CODE_DIGITS[level] for level in levels})
    digits = ", ".join(str(n) for n in lengths[:-1]) + (" or " if len(lengths) > 1 else "") + str(lengths[-1])
    return RegexValidator(division_code_pattern(*levels), f"a {digits}-digit division code")
