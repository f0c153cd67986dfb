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
    """ST_SimplifyPreserveTopology in the geometry's own units (degrees for EPSG:4326). A multi-part
    geometry stays multi-part: PostGIS answers a Polygon when all parts but one collapse, which
    would break the type a layer promises (a MultiPolygon)."""

    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=WGS84)

    def as_sql(self, compiler, connection, **extra_context):
        geometry, geometry_params = compiler.compile(self.source_expressions[0])
        tolerance, tolerance_params = compiler.compile(self.source_expressions[1])
        simplified = f"ST_SimplifyPreserveTopology({geometry}, {tolerance})"
        sql = f"CASE WHEN GeometryType({geometry}) LIKE 'MULTI%%' THEN ST_Multi({simplified}) ELSE {simplified} END"
        params = (*geometry_params, *geometry_params, *tolerance_params, *geometry_params, *tolerance_params)
        return sql, params
