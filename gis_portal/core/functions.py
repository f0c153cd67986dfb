"""PostGIS functions the ORM lacks, declared once for every app (as ``django.contrib.gis`` does)."""

from django.contrib.gis.db.models import GeometryField
from django.db.models import FloatField, Func

from gis_portal.core.crs import WGS84


class X(Func):
    """ST_X of a point (longitude for EPSG:4326)."""

    function = "ST_X"
    output_field = FloatField()


class Y(Func):
    """ST_Y of a point (latitude for EPSG:4326)."""

    function = "ST_Y"
    output_field = FloatField()


class SimplifyPreserveTopology(Func):
    """ST_SimplifyPreserveTopology in the geometry's own units (degrees for EPSG:4326)."""

    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=WGS84)
