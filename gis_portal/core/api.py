"""API glue shared by the apps: the one handler that maps every API error (DRF's own and the
services' ``ServiceError``) to ``{"error": {"code": ..., "message": ...}}``, query-parameter
validation, the ``simplify`` parameter, GeoJSON rendered by the database and its pagination."""

import datetime
import hashlib
import json
from typing import Any

import rest_framework_gis.pagination
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import F, QuerySet
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_gis import fields as gis_fields

from gis_portal.core.changes import queryset_changed_at
from gis_portal.core.errors import InvalidParameter, ServiceError
from gis_portal.core.features import FeatureText, collection_page_text, feature_texts, serializer_properties
from gis_portal.core.functions import SimplifyPreserveTopology

METRES_PER_DEGREE = 111_320.0  # of latitude; a tolerance, not a measurement


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer of the API (documented in the OpenAPI schema)."""

    error = ErrorBodySerializer()


def _message(detail: Any) -> str:
    """Flatten DRF error details into one readable sentence."""
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def error_body(*, code: str, message: str, details: Any = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        body = error_body(code=exc.code, message=exc.message, details=exc.details)
        return Response(body, status=exc.status, headers=headers)
    if isinstance(exc, Http404):
        return Response(error_body(code="not_found", message=str(exc) or "Not found."), status=404)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django logs it and answers 500
    if isinstance(exc, exceptions.ValidationError):
        code, details = "invalid_parameter", exc.detail
    else:
        code, details = getattr(exc, "default_code", "error"), getattr(exc, "details", None)
        if isinstance(exc.detail, exceptions.ErrorDetail):
            code = exc.detail.code or code
    response.data = error_body(code=code, message=_message(exc.detail), details=details)
    return response


# How deep a GeoJSON geometry's coordinates nest: a position is an array of numbers.
GEOJSON_DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4}


def geojson_geometry_schema(types: tuple[str, ...], *, nullable: bool = False) -> dict:
    """The OpenAPI schema of a GeoJSON geometry of one of ``types`` (or null)."""

    def geometry(kind: str) -> dict:
        coordinates = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
        for _ in range(GEOJSON_DEPTH[kind] - 1):
            coordinates = {"type": "array", "items": coordinates}
        return {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates},
            "required": ["type", "coordinates"],
        }

    schema = geometry(types[0]) if len(types) == 1 else {"oneOf": [geometry(kind) for kind in types]}
    return {**schema, "nullable": True} if nullable else schema


class GeoJSONField(gis_fields.GeometryField):
    """A geometry the database already rendered with ST_AsGeoJSON (see ``with_geojson``): passed
    through as parsed JSON instead of being rebuilt vertex by vertex in Python. ``geometry_types``
    (and ``allow_null``) say what it can be, for the OpenAPI document."""

    def __init__(self, *, geometry_types: tuple[str, ...], **kwargs):
        unknown = set(geometry_types) - set(GEOJSON_DEPTH)
        if not geometry_types or unknown:
            raise ValueError(f"GeoJSON geometry types expected, not {sorted(unknown) or 'none'}")
        self.geometry_types = tuple(geometry_types)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return json.loads(value) if isinstance(value, str) else value


class GeoJSONFieldExtension(OpenApiSerializerFieldExtension):
    """Describe GeoJSONField as the GeoJSON geometries it holds in the OpenAPI document (the
    contrib extension would look for a model field named after its ``source``, the SQL annotation)."""

    target_class = GeoJSONField
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return geojson_geometry_schema(self.target.geometry_types, nullable=self.target.allow_null)


class GeoJSONFeatureSerializerExtension(GeoFeatureModelSerializerExtension):
    """A GeoJSON Feature whose geometry is a GeoJSONField: documented as that field says (the
    contrib extension documents the model field of the same name, whatever the field renders)."""

    priority = 1

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        schema = super().map_geo_feature_model_serializer(serializer, base_schema)
        field = serializer.fields[serializer.Meta.geo_field]
        if isinstance(field, GeoJSONField):
            schema["properties"]["geometry"] = geojson_geometry_schema(field.geometry_types, nullable=field.allow_null)
        return schema


def geometry_simplified(geometry: Any, *, simplify_m: float = 0) -> Any:
    """The geometry (a field name or expression), simplified to about ``simplify_m`` metres when > 0."""
    if isinstance(geometry, str):
        geometry = F(geometry)
    if simplify_m > 0:
        geometry = SimplifyPreserveTopology(geometry, simplify_m / METRES_PER_DEGREE)
    return geometry


def with_geojson(queryset: QuerySet, geometry: Any, *, simplify_m: float = 0) -> QuerySet:
    """Annotate ``geojson`` (EPSG:4326, 6 decimals = about 0.1 m) rendered in SQL; with
    ``simplify_m`` > 0 polygons are simplified to about that tolerance in metres first."""
    return queryset.annotate(geojson=AsGeoJSON(geometry_simplified(geometry, simplify_m=simplify_m), precision=6))


class ConditionalGetMixin:
    """A read-only public answer that clients and proxies may cache: ``ETag`` (a hash of the body,
    so it changes exactly when the answer does), ``Last-Modified`` where the view knows when its
    data last changed (``last_modified``), ``304 Not Modified`` for a matching ``If-None-Match`` or
    an ``If-Modified-Since`` not older than that, and ``Cache-Control: public, max-age``. Streamed
    answers and HTML pages are left alone."""

    cache_max_age_s = 300
    vary = ("Accept-Encoding",)  # plus what else chooses the answer (e.g. Accept, where it picks HTML)
    # A change this recent is not announced: HTTP dates have whole seconds, and a second write within
    # the second of the first would otherwise keep the first's date (a client would keep a stale copy).
    LAST_MODIFIED_SETTLE_S = 2

    def last_modified(self) -> datetime.datetime | None:
        """When the data of this answer last changed (None: not known, no ``Last-Modified``)."""
        return None

    def last_modified_timestamp(self) -> int | None:
        if not hasattr(self, "_last_modified_ts"):
            at = self.last_modified()
            settled = at is not None and (timezone.now() - at).total_seconds() >= self.LAST_MODIFIED_SETTLE_S
            self._last_modified_ts = int(at.timestamp()) if settled else None
        return self._last_modified_ts

    def not_modified_since(self, request) -> HttpResponse | None:
        """A 304 before anything is rendered, for an ``If-Modified-Since`` (without ``If-None-Match``,
        which the body's hash answers) not older than the data; None: answer in full."""
        if request.method not in ("GET", "HEAD") or "HTTP_IF_NONE_MATCH" in request.META:
            return None
        if "HTTP_IF_MODIFIED_SINCE" not in request.META or self.last_modified_timestamp() is None:
            return None
        response = get_conditional_response(request, last_modified=self.last_modified_timestamp())
        if response is not None:
            response["Last-Modified"] = http_date(self.last_modified_timestamp())
            patch_cache_control(response, public=True, max_age=self.cache_max_age_s)
            patch_vary_headers(response, self.vary)
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.streaming:
            return response
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if not response.get("Content-Type", "").startswith(("application/", "text/csv")):
            return response  # pages carry a CSRF token and the user's name: never shared
        if response.has_header("ETag"):
            return response  # the view named the answer's version itself (e.g. a kept OGC layer)
        response["ETag"] = f'"{hashlib.md5(response.content, usedforsecurity=False).hexdigest()}"'
        last_modified = self.last_modified_timestamp()
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        patch_cache_control(response, public=True, max_age=self.cache_max_age_s)
        patch_vary_headers(response, self.vary)
        return get_conditional_response(request, etag=response["ETag"], last_modified=last_modified, response=response)


class GeoJsonPagination(rest_framework_gis.pagination.GeoJsonPagination):
    """Pages of 1,000 features; ``page_size`` up to 2,000 (a larger one is clamped to it). A whole
    layer is read by following ``next``."""

    page_size = 1000
    page_size_query_param = "page_size"
    max_page_size = 2000

    def get_paginated_response_schema(self, schema: dict) -> dict:
        # rest_framework_gis renames ``results`` to ``features`` but leaves ``results`` required, and
        # drf-spectacular hands it the list's schema, a FeatureCollection (``<Feature>List``), which
        # would then be documented as ``features``: the page's features are an array of the features.
        # The list component is named after the feature's (drf_spectacular.contrib.rest_framework_gis).
        paged = super().get_paginated_response_schema(schema)
        ref = schema.get("$ref", "")
        if ref.endswith("List"):
            paged["properties"]["features"] = {"type": "array", "items": {"$ref": ref.removesuffix("List")}}
        paged["required"] = ["type", "count", "features"]
        return paged


class PortalAutoSchema(AutoSchema):
    """Each operation with the error answers the house machinery gives besides the view's own (400,
    404, 409... documented with the view): 503 on every operation (a statement timeout, the
    heavy-request bulkhead, the database unavailable; with Retry-After), 429 where the view is
    throttled, 401 and 403 where it needs a signed-in user, 404 on a paged list (a page past the last).
    All of them ``ErrorSerializer``."""

    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code in self._house_error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses

    def _house_error_codes(self) -> list[str]:
        view = self.view
        codes = ["503"]
        if getattr(view, "pagination_class", None) and self._is_list_view():
            codes.append("404")
        if view.throttle_classes or type(view).get_throttles is not APIView.get_throttles:
            codes.append("429")
        safe = self.method in ("GET", "HEAD", "OPTIONS")
        required = [IsAuthenticated] + ([] if safe else [IsAuthenticatedOrReadOnly])
        if any(isinstance(p, type) and issubclass(p, tuple(required)) for p in view.permission_classes):
            codes += ["401", "403"]
        return codes


def query_validate(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The request's query parameters validated by ``serializer_class`` (400 JSON if invalid)."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


MAX_SIMPLIFY_M = 5000
SIMPLIFY_PARAMETER = OpenApiParameter(
    "simplify", float, description=f"simplify geometry to about this tolerance, in metres (0-{MAX_SIMPLIFY_M})"
)


def simplify_m_parse(raw: str | None) -> float:
    """The ``simplify`` query parameter: a tolerance in metres, 0 (none) to MAX_SIMPLIFY_M."""
    raw = "0" if raw in (None, "") else raw
    try:
        simplify_m = float(raw)
    except ValueError:
        raise InvalidParameter(f"simplify: {raw[:40]!r} is not a number") from None
    if not 0 <= simplify_m <= MAX_SIMPLIFY_M:
        raise InvalidParameter(f"simplify: must be between 0 and {MAX_SIMPLIFY_M} metres")
    return simplify_m


class GeoJSONListView(ConditionalGetMixin, generics.ListAPIView):
    """A paged GeoJSON list written by PostgreSQL (``gis_portal.core.features``): the page's ids by
    the filters and the paginator, then its features as the serializer declares them, the geometry
    simplified by the ``simplify`` parameter (metres) where the view allows it. Subclasses give
    ``base_queryset`` and, for fields that are not columns, ``computed_properties``."""

    pagination_class = GeoJsonPagination
    geometry = "geom"
    simplifiable = False

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def computed_properties(self) -> dict[str, Any]:
        """The SQL expressions of the serializer's fields that are not columns (by field name)."""
        return {}

    def simplify_m(self) -> float:
        return simplify_m_parse(self.request.query_params.get("simplify")) if self.simplifiable else 0

    def get_queryset(self) -> QuerySet:
        # What the serializer path would read (kept for the schema and for callers of the view).
        return with_geojson(self.base_queryset(), self.geometry, simplify_m=self.simplify_m())

    def feature(self) -> FeatureText:
        id_expression, properties = serializer_properties(
            self.get_serializer_class(), computed=self.computed_properties()
        )
        geometry = geometry_simplified(self.geometry, simplify_m=self.simplify_m())
        return FeatureText(geometry=geometry, properties=properties, id=id_expression)

    # True where the answer changes with the day too (e.g. what is overdue today).
    changes_daily = False

    def filtered_queryset(self) -> QuerySet:
        """``base_queryset`` with the request's filters, built once per request (the answer and its
        ``Last-Modified`` both read it)."""
        if not hasattr(self, "_filtered"):
            self._filtered = self.filter_queryset(self.base_queryset())
        return self._filtered

    def last_modified(self) -> datetime.datetime | None:
        at = queryset_changed_at(self.filtered_queryset())
        if at is not None and self.changes_daily:
            midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
            at = max(at, midnight)
        return at

    def list(self, request, *args, **kwargs):
        feature = self.feature()  # a bad ``simplify`` answers 400 before any query
        queryset = self.filtered_queryset()
        not_modified = self.not_modified_since(request)
        if not_modified is not None:
            return not_modified
        ids = self.paginate_queryset(queryset.values_list("pk", flat=True))
        page = self.paginator
        body = collection_page_text(
            features=feature_texts(queryset, feature, ids=ids),
            count=page.page.paginator.count,
            next=page.get_next_link(),
            previous=page.get_previous_link(),
        )
        return HttpResponse(body, content_type="application/json")
