"""Reads of the divisions: where a point is, and lists for the API and the map."""

from django.contrib.gis.db.models import GeometryField
from django.db import connection
from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from boundaries.models import Cluster, Division
from gis_portal.errors import OutsideRegion

WGS84 = 4326


LOCATE_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g),
hit AS (
    SELECT DISTINCT ON (d.level) d.id, d.level, d.code, d.name, d.is_synthetic, d.cluster_id
      FROM boundaries_divisionpiece p JOIN boundaries_division d ON d.id = p.division_id, pt
     WHERE p.level IN ('municipality', 'district', 'township') AND ST_Covers(p.geom, pt.g)
     ORDER BY d.level, d.code
)
SELECT hit.level, hit.code, hit.name, hit.is_synthetic, c.slug, c.name,
       v.code, v.name, v.is_synthetic, v.distance_m
  FROM hit
  LEFT JOIN boundaries_cluster c ON c.slug = hit.cluster_id AND hit.level = 'district'
  LEFT JOIN LATERAL (
        SELECT v.code, v.name, v.is_synthetic, ST_Distance(v.point::geography, pt.g::geography) AS distance_m
          FROM boundaries_division v, pt
         WHERE hit.level = 'township' AND v.parent_id = hit.id AND v.level = 'village' AND v.point IS NOT NULL
         ORDER BY v.point <-> pt.g
         LIMIT 1
  ) v ON true
"""


def _ref(code: str, name: str, is_synthetic: bool) -> dict:
    ref = {"code": code, "name": name}
    if is_synthetic:
        ref["is_synthetic"] = True
    return ref


def division_locate(*, lon: float, lat: float) -> dict:
    """The municipality, cluster, district, township and village/community of a WGS84 point.

    One SQL round trip. Polygons are tested with ST_Covers on their indexed pieces
    (DivisionPiece), so each test touches at most a few hundred vertices; a point on a shared
    edge goes to the lower code. Villages and communities are points, so the village is the
    nearest one of the point's township (KNN ``<->``), with its geodesic distance in metres
    (spheroid, error well under a metre). Raises OutsideRegion when the point is not in Chongqing.
    """
    with connection.cursor() as cursor:
        cursor.execute(LOCATE_SQL, {"lon": lon, "lat": lat})
        rows = cursor.fetchall()
    answer: dict = {level: None for level in ("municipality", "cluster", "district", "township", "village")}
    for level, code, name, synthetic, cluster_slug, cluster_name, *village in rows:
        answer[level] = _ref(code, name, synthetic)
        if cluster_slug:
            answer["cluster"] = {"code": cluster_slug, "name": cluster_name}
        if village[0]:
            answer["village"] = {**_ref(*village[:3]), "distance_m": round(village[3], 1)}
    if answer["municipality"] is None:
        raise OutsideRegion(f"({lon}, {lat}) is outside Chongqing municipality")
    return answer


def division_list() -> QuerySet[Division]:
    """All divisions with what the API shows, ``shape`` being the polygon or, for villages and
    communities, their point."""
    return (
        Division.objects.select_related("parent", "cluster")
        .annotate(shape=Coalesce("geom", "point", output_field=GeometryField(srid=WGS84)))
        .order_by("code")
    )


def cluster_list() -> QuerySet[Cluster]:
    return Cluster.objects.order_by("sort_order")
