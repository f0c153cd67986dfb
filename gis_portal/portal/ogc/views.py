"""The OGC API – Features endpoints under /ogc/: landing page, conformance, OpenAPI document,
collections, a collection, its queryables, its items and one item, in JSON (GeoJSON for features)
and HTML (``f=html``, or a browser's ``Accept``). Errors are the API's JSON ``{"error": ...}``
with a 4xx status. Item pages are public reads that may be large: a rate per address or user
(``ogc`` throttle scope), and pages above ``HEAVY_LIMIT`` features run in a heavy-request slot.
The pages of a whole layer come from the shared cache once a worker has read it (``layer_cache``);
a page has a weak ``ETag`` named by the state of what it selects (``If-None-Match``: 304).
"""

import hashlib
import json
import logging
from urllib.parse import urlencode

from django.db import DatabaseError, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from gis_portal.core.api import ConditionalGetMixin, simplify_m_parse
from gis_portal.core.errors import InvalidParameter
from gis_portal.core.throttles import OgcReadThrottle, run_in_heavy_slot
from gis_portal.portal.ogc import collections as layers
from gis_portal.portal.ogc.cql import filter_parse
from gis_portal.portal.ogc.document import (
    CONFORMANCE,
    DEFAULT_LIMIT,
    FILTER_LANGS,
    GEOJSON,
    HEAVY_LIMIT,
    MAX_LIMIT,
    OPENAPI,
    collection_document,
    openapi_document,
)
from gis_portal.portal.ogc.layer_cache import KeepingLayerResponse, layer_keep, layer_key, layer_page
from gis_portal.portal.ogc.selectors import (
    CRSS,
    bbox_parse,
    crs_parse,
    datetime_parse,
    item_get,
    items_count,
    items_query,
    items_state,
    items_stream,
)

logger = logging.getLogger(__name__)

ITEMS_PARAMETERS = {
    "simplify",
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
}
CHUNK = 500  # features per written chunk
# A page's ETag is a weak one named by the selection's state (``items_state``; a streamed body is
# not hashed before it is sent), none for the coverage gaps (computed per request): kept briefly.
ITEMS_MAX_AGE_S = 60


class _FirstRenderer(BaseContentNegotiation):
    """Answer JSON whatever the client accepts (GDAL asks for application/geo+json)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


def _wants_html(request) -> bool:
    f = request.GET.get("f")
    if f:
        if f not in ("json", "html", "geojson"):
            raise InvalidParameter(f"f: {f[:20]!r} is not one of json, geojson, html")
        return f == "html"
    accept = request.META.get("HTTP_ACCEPT", "")
    return "text/html" in accept and "json" not in accept


def _json(body: dict, *, content_type: str = "application/json", headers: dict | None = None) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=content_type, headers=headers)


def _with_headers(response: HttpResponse, headers: dict) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


def _base(request) -> str:
    return request.build_absolute_uri("/ogc").rstrip("/")


class OgcView(ConditionalGetMixin, APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _FirstRenderer
    throttle_classes = [OgcReadThrottle]
    authentication_classes = []  # public reads: no session (and so no CSRF) needed
    permission_classes = []
    schema = None  # described by /ogc/api, not /api/v1/schema/
    vary = ("Accept", "Accept-Encoding")  # a browser's Accept picks the HTML page


class LandingView(OgcView):
    def get(self, request):
        base = _base(request)
        body = {
            "title": "重庆市民政地理信息平台 OGC API – Features",
            "description": "Divisions, place names, lines, markers, facilities and coverage gaps of Chongqing.",
            "links": [
                {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "this document"},
                {"href": f"{base}/?f=html", "rel": "alternate", "type": "text/html", "title": "this document as HTML"},
                {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI, "title": "the API definition"},
                {
                    "href": f"{base}/conformance",
                    "rel": "conformance",
                    "type": "application/json",
                    "title": "conformance",
                },
                {"href": f"{base}/collections", "rel": "data", "type": "application/json", "title": "collections"},
            ],
        }
        if _wants_html(request):
            return render(request, "ogc/landing.html", {"doc": body, "base": base})
        return _json(body)


class ConformanceView(OgcView):
    def get(self, request):
        body = {"conformsTo": CONFORMANCE}
        if _wants_html(request):
            return render(request, "ogc/conformance.html", {"doc": body})
        return _json(body)


class ApiDocumentView(OgcView):
    def get(self, request):
        return _json(openapi_document(base=_base(request)), content_type=OPENAPI)


class CollectionsView(OgcView):
    def get(self, request):
        base = _base(request)
        documents = [collection_document(meta, base=base) for meta in layers.collection_list()]
        body = {
            "links": [
                {"href": f"{base}/collections", "rel": "self", "type": "application/json", "title": "this document"},
                {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html", "title": "as HTML"},
            ],
            "collections": documents,
            "crs": list(CRSS),
        }
        if _wants_html(request):
            return render(request, "ogc/collections.html", {"doc": body})
        return _json(body)


class CollectionView(OgcView):
    def get(self, request, collection_id: str):
        meta = layers.collection_meta(collection_id)
        body = collection_document(meta, base=_base(request))
        if _wants_html(request):
            return render(request, "ogc/collection.html", {"doc": body})
        return _json(body)


def _property_schemas(collection, *, nullable: bool = False) -> dict:
    """Each property's JSON schema (in a feature, with ``nullable``, its value may also be null)."""
    schemas = {}
    for p in collection.properties:
        kind = "string" if p.type == "date" else p.type
        schemas[p.name] = {"title": p.name, "type": [kind, "null"] if nullable else kind}
        if p.type == "date":
            schemas[p.name]["format"] = "date"
    return schemas


class SchemaView(OgcView):
    """The JSON schema of one feature of a collection (GDAL reads the field types from it)."""

    def get(self, request, collection_id: str):
        collection = layers.collection_get(collection_id)
        body = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{_base(request)}/collections/{collection.id}/schema",
            "title": str(collection.title),
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": ["string", "integer"]},
                "geometry": {"$ref": f"https://geojson.org/schema/{collection.geometry_type}.json"},
                "properties": {"type": "object", "properties": _property_schemas(collection, nullable=True)},
            },
        }
        return _json(body, content_type="application/schema+json")


class QueryablesView(OgcView):
    def get(self, request, collection_id: str):
        collection = layers.collection_get(collection_id)
        base = _base(request)
        properties = {"geometry": {"$ref": f"https://geojson.org/schema/{collection.geometry_type}.json"}}
        properties.update(_property_schemas(collection))
        body = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{collection.id}/queryables",
            "type": "object",
            "title": str(collection.title),
            "properties": properties,
            "additionalProperties": False,
        }
        if _wants_html(request):
            return render(request, "ogc/queryables.html", {"doc": body, "collection": collection})
        return _json(body, content_type="application/schema+json")


def _int(request, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"{name}: {raw[:20]!r} is not an integer") from None
    if value < minimum:
        raise InvalidParameter(f"{name}: at least {minimum}")
    return min(value, maximum) if maximum else value


def selection(request, collection):
    """The query of an items request, its CRS and page, from the query parameters (400 if bad)."""
    crs = crs_parse(request.GET.get("crs"), parameter="crs")
    cql = None
    if request.GET.get("filter"):
        lang = request.GET.get("filter-lang", "cql2-text")
        if lang not in FILTER_LANGS:
            raise InvalidParameter(f"filter-lang: {lang[:30]!r} is not one of {', '.join(FILTER_LANGS)}")
        cql = filter_parse(request.GET["filter"], lang="cql2-text" if lang == "cql-text" else lang)
    equals = {}
    for name, value in request.GET.items():
        if name in collection.types:
            equals[name] = value  # queryables as query parameters: property=value
        elif name not in ITEMS_PARAMETERS:
            raise InvalidParameter(f"{name}: not a parameter of this collection's items")
    query = items_query(
        collection,
        crs=crs,
        bbox=bbox_parse(request.GET.get("bbox")),
        bbox_crs=crs_parse(request.GET.get("bbox-crs"), parameter="bbox-crs"),
        dates=datetime_parse(request.GET.get("datetime")),
        cql=cql,
        filter_crs=crs_parse(request.GET.get("filter-crs"), parameter="filter-crs"),
        equals=equals,
        simplify_m=simplify_m_parse(request.GET.get("simplify")),
        today=timezone.localdate(),
    )
    return query, crs


def _checked_count(query) -> int:
    """numberMatched; a filter the database refuses (e.g. an invalid geometry) is a 400."""
    try:
        with transaction.atomic():
            return items_count(query)
    except DatabaseError as error:
        message = str(error).splitlines()[0][:200]
        raise InvalidParameter(f"filter: the database could not apply it: {message}") from None


def _page_link(request, *, rel: str, offset: int, html: bool = False) -> dict:
    params = {k: v for k, v in request.GET.items() if k != "offset"}
    if offset:
        params["offset"] = offset
    if html:
        params["f"] = "html"
    elif params.get("f") == "html":
        params.pop("f")
    kind = "text/html" if html else GEOJSON
    return {"href": request.build_absolute_uri(request.path) + "?" + urlencode(params), "rel": rel, "type": kind}


class ItemsView(OgcView):
    def get(self, request, collection_id: str):
        limit = _int(request, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        if limit > HEAVY_LIMIT:
            return run_in_heavy_slot(self.answer, request, collection_id, limit)
        return self.answer(request, collection_id, limit)

    def answer(self, request, collection_id: str, limit: int):
        collection = layers.collection_get(collection_id)
        offset = _int(request, "offset", default=0, minimum=0)
        query, crs = selection(request, collection)
        html = _wants_html(request)
        state = None if html else items_state(query)
        etag = key = None
        if state is not None:
            # The selection's state and the request name the answer (its timeStamp aside: a weak tag).
            etag = 'W/"' + hashlib.sha256(f"{state} {request.build_absolute_uri()}".encode()).hexdigest()[:32] + '"'
            not_modified = get_conditional_response(request, etag=etag)
            if not_modified is not None:
                return _with_headers(not_modified, self._cache_headers(etag))
            key = layer_key(query, state)
        page = layer_page(key, limit=limit, offset=offset) if key is not None else None
        matched = page.matched if page is not None else _checked_count(query)
        returned = max(0, min(limit, matched - offset))
        # Past the last feature a page is empty: the database is not asked for it (an offset beyond
        # its bigint would fail mid-stream, after the 200 has gone).
        read_from = min(offset, matched)
        links = [
            _page_link(request, rel="self", offset=offset),
            _page_link(request, rel="alternate", offset=offset, html=True),
        ]
        if offset + limit < matched:
            links.append(_page_link(request, rel="next", offset=offset + limit))
        if offset > 0:
            links.append(_page_link(request, rel="prev", offset=max(0, offset - limit)))
        links.append(
            {"href": f"{_base(request)}/collections/{collection.id}", "rel": "collection", "type": "application/json"}
        )
        tail = {
            "numberMatched": matched,
            "numberReturned": returned,
            "timeStamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": links,
        }
        headers = {"Content-Crs": f"<{crs.uri}>"}
        if html:
            features = [json.loads(text) for text in items_stream(query, limit=limit, offset=read_from)]
            columns = [p.name for p in collection.properties]
            rows = [(f["id"], [f["properties"].get(c) for c in columns]) for f in features]
            context = {"collection": collection, "columns": columns, "rows": rows, **tail}
            return _with_headers(render(request, "ogc/items.html", context), headers)
        headers.update(self._cache_headers(etag))
        if page is not None:
            body = b"".join([COLLECTION_OPEN.encode(), b",".join(page.features), _collection_close(tail).encode()])
            return HttpResponse(body, content_type=GEOJSON, headers=headers)
        chunks = _collection_chunks(items_stream(query, limit=limit, offset=read_from), tail)
        if key is None:
            return StreamingHttpResponse(chunks, content_type=GEOJSON, headers=headers)

        return KeepingLayerResponse(chunks, content_type=GEOJSON, headers=headers, keep=lambda: layer_keep(key, query))

    @staticmethod
    def _cache_headers(etag: str | None) -> dict:
        headers = {"Cache-Control": f"public, max-age={ITEMS_MAX_AGE_S}", "Vary": "Accept, Accept-Encoding"}
        if etag is not None:
            headers["ETag"] = etag
        return headers


COLLECTION_OPEN = '{"type":"FeatureCollection","features":['


def _collection_close(tail: dict) -> str:
    """What ends a FeatureCollection after its features: the members of ``tail``."""
    return "]," + json.dumps(tail, ensure_ascii=False)[1:]


def _collection_chunks(features, tail: dict):
    """A FeatureCollection written as its features come from the database, members after them."""
    yield COLLECTION_OPEN
    batch, first = [], True
    for text in features:
        batch.append(text)
        if len(batch) == CHUNK:
            yield ("" if first else ",") + ",".join(batch)
            batch, first = [], False
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield _collection_close(tail)


class ItemView(OgcView):
    def get(self, request, collection_id: str, feature_id: str):
        collection = layers.collection_get(collection_id)
        crs = crs_parse(request.GET.get("crs"), parameter="crs")
        query = items_query(collection, crs=crs, today=timezone.localdate())
        feature = json.loads(item_get(query, fid=feature_id))
        base = _base(request)
        feature["links"] = [
            {"href": request.build_absolute_uri(request.path), "rel": "self", "type": GEOJSON},
            {"href": request.build_absolute_uri(request.path) + "?f=html", "rel": "alternate", "type": "text/html"},
            {"href": f"{base}/collections/{collection.id}", "rel": "collection", "type": "application/json"},
        ]
        headers = {"Content-Crs": f"<{crs.uri}>"}
        if _wants_html(request):
            properties = list(feature["properties"].items())
            context = {"collection": collection, "feature": feature, "properties": properties}
            return _with_headers(render(request, "ogc/item.html", context), headers)
        return _json(feature, content_type=GEOJSON, headers=headers)
