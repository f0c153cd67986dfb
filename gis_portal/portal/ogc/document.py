"""What the OGC API – Features service says of itself: the conformance classes it passes (each
exercised in tests/gis_portal/test_ogc.py), the description of a collection, and the OpenAPI 3.0
document of /ogc/ (GDAL reads the ``limit`` maximum and the filter languages from it)."""

from gis_portal.core.api import MAX_SIMPLIFY_M
from gis_portal.core.region import REGION_BOUNDS
from gis_portal.portal.ogc.collections import STORED, Collection
from gis_portal.portal.ogc.selectors import CRS84, CRSS

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000  # a larger limit is clamped to it (OGC API – Features Part 1, 7.15.3)
HEAVY_LIMIT = 2000  # pages above this run in a heavy-request slot

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    _F1 + "core",
    _F1 + "oas30",
    _F1 + "html",
    _F1 + "geojson",
    _F2 + "crs",
    _F3 + "queryables",
    _F3 + "queryables-query-parameters",
    _F3 + "filter",
    _F3 + "features-filter",
    _CQL2 + "cql2-text",
    _CQL2 + "cql2-json",
    _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators",
    _CQL2 + "case-insensitive-comparison",
    _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus",
    _CQL2 + "spatial-functions",
]
# cql-text: the draft's name for the text encoding, which GDAL 3.6 looks for (read as cql2-text).
FILTER_LANGS = ["cql2-text", "cql2-json", "cql-text"]


def collection_document(collection: Collection, *, base: str) -> dict:
    """A collection as /ogc/collections/{id} describes it (extent: the region's bounding box)."""
    href = f"{base}/collections/{collection.id}"
    return {
        "id": collection.id,
        "title": str(collection.title),
        "description": str(collection.description),
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [list(REGION_BOUNDS)], "crs": CRS84}},
        "crs": list(CRSS),
        "storageCrs": CRS84,
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": "this collection"},
            {"href": f"{href}?f=html", "rel": "alternate", "type": "text/html", "title": "as HTML"},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": "features"},
            {"href": f"{href}/items?f=html", "rel": "items", "type": "text/html", "title": "features as HTML"},
            {
                "href": f"{href}/queryables",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "title": "queryables",
            },
            {
                "href": f"{href}/download?f=gpkg",
                "rel": "enclosure",
                "type": "application/geopackage+sqlite3",
                "title": "GeoPackage",
            },
            {
                "href": f"{href}/download?f=shp",
                "rel": "enclosure",
                "type": "application/zip",
                "title": "zipped Shapefile",
            },
            # A feature's JSON schema (GDAL reads field types from it).
            {"href": f"{href}/schema", "rel": "describedBy", "type": "application/schema+json", "title": "schema"},
        ],
    }


def _parameter(name: str, description: str, schema: dict, *, where: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": where, "description": description, "required": required, "schema": schema}


# The bodies the service sends, as much as a client may rely on (OGC API – Features Part 1's
# schemas say more; tests/gis_portal/test_ogc.py checks the answers against those).
_LINKS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"}},
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"type": "object", "nullable": True},
        "properties": {"type": "object", "nullable": True},
        "links": _LINKS,
    },
}
_FEATURES = {
    "type": "object",
    "required": ["type", "features", "numberMatched", "numberReturned", "links"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": _FEATURE},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string"},
        "links": _LINKS,
    },
}
_COLLECTION = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "links": _LINKS},
}
_JSON_SCHEMA = {"type": "object", "required": ["type", "properties"], "properties": {"properties": {"type": "object"}}}
BODIES = {
    "landing page": {"type": "object", "required": ["links"], "properties": {"links": _LINKS}},
    "conformance classes": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "collections": {
        "type": "object",
        "required": ["collections", "links"],
        "properties": {"collections": {"type": "array", "items": _COLLECTION}, "links": _LINKS},
    },
    "a collection": _COLLECTION,
    "queryables": _JSON_SCHEMA,
    "schema": _JSON_SCHEMA,
    "features": _FEATURES,
    "a feature": _FEATURE,
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
_ERRORS = {
    "400": "a parameter the service does not take, or a value it cannot read",
    "404": "no such collection or feature",
    "429": "too many requests from this address or user (Retry-After)",
    "503": "briefly unavailable: the database, a statement timeout or every heavy-request slot busy (Retry-After)",
}


def _json_response(description: str, media: str = "application/json", *, html: bool = True) -> dict:
    """200 in ``media`` (or, ``html``, an HTML page with ``f=html``), with its body's schema."""
    content = {media: {"schema": BODIES[description]}} | ({"text/html": {}} if html else {})
    return {"description": description, "content": content}


def _responses(ok: dict, *errors: str) -> dict:
    """An operation's answers: ``ok`` as 200, the errors it names and what every OGC view may
    answer (429: the ``ogc`` throttle; 503), each with the API's JSON error body, 304 and 414."""
    error = {"content": {"application/json": {"schema": _ERROR}}}
    answers = {"200": ok} | {code: {"description": _ERRORS[code], **error} for code in (*errors, "429", "503")}
    # Every JSON answer but the coverage gaps' carries an ETag (the documents a hash of the body,
    # item pages a weak tag named by the state of what they select).
    answers["304"] = {"description": "not modified: the If-None-Match tag still names this answer (no body)"}
    # From the HTTP server, before the service: a request line over its limit (gunicorn: 4,094 bytes).
    answers["414"] = {"description": "the URL is too long for the HTTP server"}
    return answers


def _queryable_parameter(prop) -> dict:
    schema = {"type": "string", "format": "date"} if prop.type == "date" else {"type": prop.type}
    return _parameter(prop.name, f"features whose {prop.name} is this value", schema)


def openapi_document(*, base: str) -> dict:
    """The OpenAPI 3.0 document of the service."""
    crs = {"type": "string", "format": "uri", "enum": list(CRSS), "default": CRS84}
    collection_id = _parameter("collectionId", "collection id", {"type": "string"}, where="path", required=True)
    f = _parameter("f", "format", {"type": "string", "enum": ["json", "geojson", "html"]})
    items_parameters = [
        collection_id,
        _parameter(
            "limit",
            f"features per page, above {MAX_LIMIT} clamped",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        _parameter(
            "offset", "features to skip (next/prev links carry it)", {"type": "integer", "minimum": 0, "default": 0}
        ),
        {
            **_parameter(
                "bbox",
                "minx,miny,maxx,maxy in bbox-crs",
                {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            ),
            "style": "form",
            "explode": False,
        },
        _parameter("bbox-crs", "CRS of bbox", crs),
        _parameter("crs", "CRS of the answer", crs),
        _parameter(
            "datetime",
            "a date or an interval start/end (.. open) on the collection's date; on divisions, the versions "
            "in force then (from the earliest yearly list on), each with its validity",
            {"type": "string"},
        ),
        _parameter("filter", "a CQL2 filter", {"type": "string"}),
        _parameter(
            "filter-lang", "language of filter", {"type": "string", "enum": FILTER_LANGS, "default": "cql2-text"}
        ),
        _parameter("filter-crs", "CRS of the filter's geometries", crs),
        _parameter(
            "simplify",
            "vendor parameter: simplify geometry to about this tolerance, metres",
            {"type": "number", "minimum": 0, "maximum": MAX_SIMPLIFY_M},
        ),
        f,
    ]
    # Each stored collection's items with its queryables as parameters (property=value).
    per_collection = {
        f"/collections/{c.id}/items": {
            "get": {
                "operationId": f"getFeatures-{c.id}",
                "parameters": items_parameters[1:] + [_queryable_parameter(p) for p in c.properties],
                "responses": _responses(_json_response("features", GEOJSON), "400"),
            }
        }
        for c in STORED
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "重庆市民政地理信息平台 OGC API – Features",
            "version": "1.0.0",
            "description": "Divisions, place names, boundary lines, markers, facilities and coverage gaps (read-only).",
        },
        "servers": [{"url": base}],
        "paths": {
            "/": {
                "get": {
                    "operationId": "getLandingPage",
                    "parameters": [f],
                    "responses": _responses(_json_response("landing page"), "400"),
                }
            },
            "/conformance": {
                "get": {
                    "operationId": "getConformance",
                    "parameters": [f],
                    "responses": _responses(_json_response("conformance classes"), "400"),
                }
            },
            "/api": {
                "get": {
                    "operationId": "getApi",
                    "responses": _responses({"description": "this document", "content": {OPENAPI: {}}}),
                }
            },
            "/collections": {
                "get": {
                    "operationId": "getCollections",
                    "parameters": [f],
                    "responses": _responses(_json_response("collections"), "400"),
                }
            },
            "/collections/{collectionId}": {
                "get": {
                    "operationId": "describeCollection",
                    "parameters": [collection_id, f],
                    "responses": _responses(_json_response("a collection"), "400", "404"),
                }
            },
            "/collections/{collectionId}/queryables": {
                "get": {
                    "operationId": "getQueryables",
                    "parameters": [collection_id, f],
                    "responses": _responses(_json_response("queryables", "application/schema+json"), "400", "404"),
                }
            },
            "/collections/{collectionId}/schema": {
                "get": {
                    "operationId": "getSchema",
                    "parameters": [collection_id],
                    "responses": _responses(_json_response("schema", "application/schema+json", html=False), "404"),
                }
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "operationId": "getFeatures",
                    "parameters": items_parameters,
                    "responses": _responses(_json_response("features", GEOJSON), "400", "404"),
                }
            },
            **per_collection,
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "operationId": "getFeature",
                    "parameters": [
                        collection_id,
                        _parameter("featureId", "feature id", {"type": "string"}, where="path", required=True),
                        _parameter("crs", "CRS of the answer", crs),
                        f,
                    ],
                    "responses": _responses(_json_response("a feature", GEOJSON), "400", "404"),
                }
            },
            "/collections/{collectionId}/download": {
                "get": {
                    "operationId": "downloadCollection",
                    "parameters": [
                        collection_id,
                        _parameter("f", "file format", {"type": "string", "enum": ["gpkg", "shp"]}, required=True),
                    ],
                    "responses": _responses(
                        {
                            "description": "the whole layer as a GeoPackage or a zipped Shapefile (UTF-8, .cpg)",
                            "content": {"application/geopackage+sqlite3": {}, "application/zip": {}},
                        },
                        "400",
                        "404",
                    ),
                }
            },
        },
    }
