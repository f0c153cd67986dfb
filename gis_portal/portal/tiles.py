"""Vector tiles of the dense layers: ``/tiles/{layer}/{z}/{x}/{y}.pbf`` (Mapbox Vector Tile, built by
PostGIS ``ST_AsMVT`` through django-vectortiles). Geometry is simplified by zoom (to about one
pixel of the tile, in Web Mercator metres) and small features appear only from the zoom where they
are readable. ``?cluster=`` limits every layer to one of the three clusters; ``?date=`` draws the
divisions, place names and boundary lines as they were that day (the division history), the other
layers as they are. Tiles are cached in the
process (``TILE_CACHE_SECONDS``) and marked cacheable for browsers and CDNs for as long. A bad
request raises a ``ServiceError``, which the pages' middleware answers as JSON.
"""

import datetime
import hashlib

from django.conf import settings
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import Transform
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views import View
from vectortiles import VectorLayer
from vectortiles.backends.postgis.functions import MakeEnvelope

from boundaries.history_selectors import boundary_lines_on, division_date_parse, division_versions_on, township_areas_on
from boundaries.models import BoundaryLine, Cluster, Division, Marker
from facilities.models import Facility
from gis_portal.core.caching import cached
from gis_portal.core.crs import WEB_MERCATOR, WGS84
from gis_portal.core.errors import InvalidParameter, NotFound
from placenames.models import PlaceName, PlaceNameVariant

MAX_ZOOM = 22
EARTH_CIRCUMFERENCE_M = 40_075_016.686  # of the Web Mercator sphere
TILE_EXTENT = 4096


def pixel_m(z: int) -> float:
    """The size of one of a tile's 4,096 units at zoom ``z``, in Web Mercator metres."""
    return EARTH_CIRCUMFERENCE_M / (2**z) / TILE_EXTENT


def simplified(geometry: F, *, tolerance_m: float) -> Transform:
    """``geometry`` (EPSG:4326) simplified with ST_Simplify in Web Mercator and brought back: drops
    vertices closer than ``tolerance_m`` Web Mercator metres (a tile unit), keeping small polygons
    and lines that would collapse."""
    in_mercator = Transform(geometry, WEB_MERCATOR)
    simplified_mercator = Func(
        in_mercator,
        Value(tolerance_m),
        Value(True),
        function="ST_Simplify",
        output_field=GeometryField(srid=WEB_MERCATOR),
    )
    return Transform(simplified_mercator, WGS84)


class PortalLayer(VectorLayer):
    """A layer of the portal: a queryset, the fields a tile carries, the cluster path to filter on,
    and whether geometry is simplified (lines and polygons) by zoom."""

    cluster_path = ""
    simplify = False
    tile_buffer = 64

    def __init__(self, *, cluster: str | None = None, on: datetime.date | None = None):
        self.cluster = cluster
        self.on = on
        if on is not None and hasattr(self, "dated"):
            self.dated(on)

    def get_vector_tile_queryset(self, z, x, y):
        queryset = self.get_queryset()
        if self.cluster:
            queryset = queryset.filter(**{self.cluster_path: self.cluster})
        # Filter on the indexed column first; the library then clips the annotated geometry.
        xmin, ymin, xmax, ymax = self.get_bounds(x, y, z)
        envelope = Transform(MakeEnvelope(xmin, ymin, xmax, ymax, WEB_MERCATOR), WGS84)
        queryset = queryset.filter(**{f"{self.source_field}__intersects": envelope})
        shape = F(self.shape_field or self.source_field)
        if self.simplify:
            return queryset.annotate(tile_geom=simplified(shape, tolerance_m=pixel_m(z)))
        return queryset.annotate(tile_geom=shape)

    geom_field = "tile_geom"
    source_field = "geom"  # the indexed column a tile's features are found by
    shape_field = ""  # the geometry drawn, when not that column


class TownshipLayer(PortalLayer):
    id = "townships"
    queryset = Division.objects.filter(level=Division.Level.TOWNSHIP, geom__isnull=False)
    tile_fields = ("code", "name", "kind", "cluster_id", "is_synthetic")
    cluster_path = "cluster_id"
    simplify = True
    min_zoom = 7

    def dated(self, on: datetime.date) -> None:
        """Today's polygons, each named as the unit that answered for it on ``on`` (for a polygon of
        units merged by an applied proposal, each unit's part)."""
        self.queryset = township_areas_on(on=on).annotate(
            shape=Coalesce("geom", "division__geom"),
            code=F("version__code"),
            name=F("version__name"),
            kind=F("version__kind"),
            cluster_id=F("division__cluster_id"),
            is_synthetic=F("division__is_synthetic"),
        )
        self.tile_fields = ("code", "name", "kind", "cluster_id", "is_synthetic")
        self.cluster_path = "division__cluster_id"
        self.source_field = "division__geom"
        self.shape_field = "shape"


class VillageLayer(PortalLayer):
    id = "villages"
    queryset = Division.objects.filter(level=Division.Level.VILLAGE, point__isnull=False)
    tile_fields = ("code", "name", "kind", "population", "elderly_population", "cluster_id", "is_synthetic")
    cluster_path = "cluster_id"
    source_field = "point"
    min_zoom = 10

    def dated(self, on: datetime.date) -> None:
        """The villages and communities of ``on`` at the points of the units they live on as."""
        self.queryset = division_versions_on(on=on).filter(
            level=Division.Level.VILLAGE, geometry_from__point__isnull=False
        )
        self.tile_fields = ("code", "name", "kind", "cluster_id", "is_synthetic")
        self.source_field = "geometry_from__point"


class PlaceNameLayer(PortalLayer):
    id = "placenames"
    queryset = PlaceName.objects.filter(point__isnull=False, valid_to__isnull=True)
    tile_fields = ("id", "name", "pinyin", "feature_class", "rank", "is_synthetic")
    cluster_path = "cluster_id"
    source_field = "point"
    min_zoom = 6

    def dated(self, on: datetime.date) -> None:
        """The names in use on ``on``: a place's own name if valid then, else its former name then."""
        former = PlaceNameVariant.objects.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=on),
            Q(valid_to__isnull=True) | Q(valid_to__gte=on),
            placename=OuterRef("pk"),
            kind=PlaceNameVariant.Kind.FORMER,
        )
        own = (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        self.queryset = (
            PlaceName.objects.filter(point__isnull=False)
            .annotate(former_name=Subquery(former.values("name")[:1]), own_valid=ExpressionWrapper(own, BooleanField()))
            .filter(Q(own_valid=True) | Q(former_name__isnull=False))
            .annotate(name_on=Case(When(own_valid=True, then=F("name")), default=F("former_name")))
        )
        # ``name`` stays today's name (a model field cannot be shadowed); ``name_on`` is that day's.
        self.tile_fields = ("id", "name", "name_on", "pinyin", "feature_class", "rank", "is_synthetic")

    def get_vector_tile_queryset(self, z, x, y):
        # Districts from zoom 6, townships from 9, villages and everything else from 12.
        max_rank = 1 if z < 9 else 2 if z < 12 else 99
        return super().get_vector_tile_queryset(z, x, y).filter(rank__lte=max_rank)


class FacilityLayer(PortalLayer):
    id = "facilities"
    queryset = Facility.objects.all()
    tile_fields = ("id", "name", "category", "status", "operator", "beds", "is_synthetic")
    cluster_path = "district__cluster_id"
    source_field = "point"
    min_zoom = 9


class BoundaryLineLayer(PortalLayer):
    id = "boundary-lines"
    queryset = BoundaryLine.objects.all()
    tile_fields = ("code", "name", "level", "status", "last_inspected", "is_synthetic")
    cluster_path = "district__cluster_id"
    simplify = True
    min_zoom = 5

    def dated(self, on: datetime.date) -> None:
        """Without the lines inside one unit then (split later)."""
        self.queryset = boundary_lines_on(BoundaryLine.dated.all(), on=on)
        self.tile_fields = (*self.tile_fields, "left_on_name", "right_on_name")

    def get_vector_tile_queryset(self, z, x, y):
        queryset = super().get_vector_tile_queryset(z, x, y)
        return queryset if z >= 9 else queryset.exclude(level=BoundaryLine.Level.TOWNSHIP)


class MarkerLayer(PortalLayer):
    id = "markers"
    queryset = Marker.objects.all()
    tile_fields = ("number", "marker_type", "status", "last_checked", "is_synthetic")
    cluster_path = "line__district__cluster_id"
    min_zoom = 9


LAYERS = {
    layer.id: layer
    for layer in (TownshipLayer, VillageLayer, PlaceNameLayer, FacilityLayer, BoundaryLineLayer, MarkerLayer)
}


def tile_cache_key(*, layer: str, z: int, x: int, y: int, cluster: str | None, on=None) -> str:
    """The shared cache's key of one tile, by everything that chooses its content."""
    return "tile:" + hashlib.sha1(f"{layer}/{z}/{x}/{y}/{cluster}/{on or ''}".encode()).hexdigest()  # noqa: S324 (a cache key)


class TileView(View):
    """One tile of one layer: 200 with MVT bytes, 204 when the tile has no feature, 400 for bad
    coordinates or cluster, 404 for an unknown layer."""

    def get(self, request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
        layer_class = LAYERS.get(layer)
        if layer_class is None:
            raise NotFound(f"no tile layer {layer[:40]!r}; layers: {', '.join(LAYERS)}")
        try:
            z, x, y = int(z), int(x), int(y)
        except ValueError:
            raise InvalidParameter("z, x and y must be whole numbers") from None
        if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
            raise InvalidParameter(f"tile {z}/{x}/{y} does not exist (0 <= x, y < 2^z, z <= {MAX_ZOOM})")
        cluster = request.GET.get("cluster") or None
        if cluster is not None and cluster not in _cluster_slugs():
            raise InvalidParameter(f"cluster: no cluster {cluster[:40]!r}")
        on = division_date_parse(raw=request.GET.get("date"))
        key = tile_cache_key(layer=layer, z=z, x=x, y=y, cluster=cluster, on=on)
        content = cached(
            key, settings.TILE_CACHE_SECONDS, lambda: layer_class(cluster=cluster, on=on).get_tile(x, y, z)
        )
        response = HttpResponse(
            content, content_type="application/vnd.mapbox-vector-tile", status=200 if content else 204
        )
        patch_cache_control(response, public=True, max_age=settings.TILE_CACHE_SECONDS)
        return response


def _cluster_slugs() -> set[str]:
    return cached("tile:clusters", 3600, lambda: set(Cluster.objects.values_list("slug", flat=True)))
