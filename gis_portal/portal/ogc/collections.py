"""The collections OGC API – Features serves: each is one SQL source (a SELECT over the apps'
tables with a feature id ``fid``, the geometry ``geom`` in EPSG:4326 and one column per property)
and the list of its properties with their JSON-schema types, which are also its queryables.

The properties are those of the matching /api/v1 list (divisions, boundary lines, markers,
facilities), so a GIS client sees the same attributes as the API. The coverage gaps of each active
standard are computed by ``facilities.selectors.coverage_gaps`` (their rule decides their
properties) and handed to the database as JSON, so that they are paged, filtered and reprojected
like the stored layers.

The division collections are today's units; with ``datetime`` they are read from the dated
versions (``versions``: the units in force on that day or at some time in that interval, as the
yearly lists give them, each with its validity), as ``date=`` does in /api/v1/divisions.
"""

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from boundaries.history_models import DivisionVersion
from boundaries.models import BoundaryLine, Division, Inspection, Marker
from boundaries.selectors import INSPECTION_CYCLE_YEARS
from facilities.models import CoverageStandard, Facility
from facilities.selectors import coverage_gaps, coverage_standard_list
from gis_portal.core import sql
from gis_portal.core.errors import NotFound
from placenames.models import PlaceName

MODELS = {
    "division": Division,
    "line": BoundaryLine,
    "inspection": Inspection,
    "marker": Marker,
    "facility": Facility,
    "placename": PlaceName,
    "version": DivisionVersion,
}
GAPS_CACHE_S = 60
MAX_GAPS = 100_000  # more than the demand points of any rule (11,270 villages and communities)


@dataclass(frozen=True)
class Property:
    name: str
    sql: str  # an expression over the source's tables (fixed text of this module, never input)
    type: str  # JSON-schema type: string, integer, number, boolean; "date" for a date


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    geometry_type: str
    fid: str
    geometry: str
    from_sql: str
    properties: tuple[Property, ...]
    date_property: str | None = None  # the property ``datetime=`` selects on
    # Units that change over time: the collection of their dated versions, read instead when
    # ``datetime`` is given (it selects the versions whose validity overlaps it).
    versions: "Collection | None" = None
    validity: tuple[str, str] | None = None  # a versions collection: its valid_from and valid_to columns
    order: str = "fid"  # the column features are listed by (then by fid)
    # The source's own parameters (e.g. the gaps as JSON) and literal parts, given today's date.
    params: Callable[[], dict] = field(default=dict)

    @property
    def types(self) -> dict[str, str]:
        return {p.name: p.type for p in self.properties}

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the source reads (the models it names), whose writes change its features."""
        text = " ".join([self.fid, self.geometry, self.from_sql, *(p.sql for p in self.properties)])
        return tuple(sorted(model._meta.db_table for name, model in MODELS.items() if "{" + name + "}" in text))

    def source(self, *, today: datetime.date) -> tuple[sql.Composed, dict]:
        """``SELECT fid, geom, <properties> FROM ...`` and its parameters."""
        parts = {**MODELS, "today": sql.Literal(today), "cycle": sql.Literal(INSPECTION_CYCLE_YEARS)}
        columns = [sql.SQL(self.fid + " AS fid"), sql.SQL(self.geometry + " AS geom")]
        columns += [
            sql.compose("(" + p.sql + ") AS {name}", name=sql.Identifier(p.name), **parts) for p in self.properties
        ]
        query = sql.compose("SELECT {columns} " + self.from_sql, columns=sql.join(columns, ", "), **parts)
        return query, self.params()


def _division_versions(level: str, title: str, geometry_type: str) -> Collection:
    """The units of one level as the yearly lists give them, each version with its validity (a
    bound only known to lie between two lists: its ``_after`` date is set). The figures (area,
    population) are today's, so they are left out, as in /api/v1/divisions?date=."""
    return Collection(
        id={"district": "districts", "township": "townships", "village": "villages"}[level],
        title=title,
        description=_("Statistical divisions of one level as they were, each version with its validity."),
        geometry_type=geometry_type,
        # A code can have versions one after another (a renamed unit keeps its code): a version
        # that began after the first list is told apart by the day it began.
        fid="CASE WHEN v.valid_from IS NULL THEN v.code ELSE v.code || '@' || v.valid_from END",
        geometry="COALESCE(g.geom, g.point)",
        from_sql="FROM {version} v LEFT JOIN {division} g ON g.id = v.geometry_from_id WHERE v.level = '" + level + "'",
        properties=(
            Property("code", "v.code", "string"),
            Property("name", "v.name", "string"),
            Property("standard_name", "v.standard_name", "string"),
            Property("level", "v.level", "string"),
            Property("kind", "v.kind", "string"),
            Property("cluster", "v.cluster_id", "string"),
            Property("parent_code", "v.parent_code", "string"),
            Property("district_code", "v.district_code", "string"),
            Property("valid_from", "v.valid_from", "date"),
            Property("valid_from_after", "v.valid_from_after", "date"),
            Property("valid_to", "v.valid_to", "date"),
            Property("valid_to_after", "v.valid_to_after", "date"),
            Property("geometry_code", "g.code", "string"),
            Property("has_own_geometry", "g.id IS NOT NULL", "boolean"),
            Property("is_synthetic", "v.is_synthetic", "boolean"),
            Property("source", "v.source", "string"),
        ),
        order="code",
        validity=("valid_from", "valid_to"),
    )


def _division(level: str, title: str, geometry_type: str) -> Collection:
    return Collection(
        id={"district": "districts", "township": "townships", "village": "villages"}[level],
        title=title,
        description=_("Statistical divisions of one level (2023), with population; generated parts flagged."),
        geometry_type=geometry_type,
        fid="d.code",
        geometry="COALESCE(d.geom, d.point)",
        from_sql="FROM {division} d LEFT JOIN {division} p ON p.id = d.parent_id WHERE d.level = '" + level + "'",
        properties=(
            Property("code", "d.code", "string"),
            Property("name", "d.name", "string"),
            Property("level", "d.level", "string"),
            Property("kind", "d.kind", "string"),
            Property("cluster", "d.cluster_id", "string"),
            Property("parent_code", "p.code", "string"),
            Property("area_m2", "d.area_m2", "number"),
            Property("population", "d.population", "integer"),
            Property("elderly_population", "d.elderly_population", "integer"),
            Property("is_synthetic", "d.is_synthetic", "boolean"),
            Property("source", "d.source", "string"),
            Property("source_datum", "d.source_datum", "string"),
        ),
        versions=_division_versions(level, title, geometry_type),
    )


NEXT_DUE = "(l.last_inspected + make_interval(years => {cycle}))::date"

STORED = (
    _division("district", _("Districts and counties"), "MultiPolygon"),
    _division("township", _("Townships and streets"), "MultiPolygon"),
    _division("village", _("Villages and communities"), "Point"),
    Collection(
        id="placenames",
        title=_("Standard place names"),
        description=_("Standard place names with their pinyin, feature class and validity dates."),
        geometry_type="Point",
        fid="n.id",
        geometry="n.point",
        from_sql="FROM {placename} n LEFT JOIN {division} dv ON dv.id = n.division_id"
        " LEFT JOIN {division} dt ON dt.id = n.district_id",
        properties=(
            Property("id", "n.id", "integer"),
            Property("name", "n.name", "string"),
            Property("specific", "n.specific", "string"),
            Property("generic", "n.generic", "string"),
            Property("pinyin", "n.pinyin", "string"),
            Property("code", "dv.code", "string"),
            Property("feature_class", "n.feature_class", "string"),
            Property("status", "n.status", "string"),
            Property("district_code", "dt.code", "string"),
            Property("cluster", "n.cluster_id", "string"),
            Property("valid_from", "n.valid_from", "date"),
            Property("valid_to", "n.valid_to", "date"),
            Property("is_synthetic", "n.is_synthetic", "boolean"),
        ),
        date_property="valid_from",
    ),
    Collection(
        id="boundary-lines",
        title=_("Boundary lines"),
        description=_("Provincial, county and township boundary lines with their inspection status."),
        geometry_type="MultiLineString",
        fid="l.code",
        geometry="l.geom",
        from_sql="FROM (SELECT * FROM {line} WHERE valid_to IS NULL) l"  # the lines in force
        " LEFT JOIN {division} dd ON dd.id = l.district_id",
        properties=(
            Property("code", "l.code", "string"),
            Property("name", "l.name", "string"),
            Property("level", "l.level", "string"),
            Property("left", "l.left_code", "string"),
            Property("left_name", "l.left_name", "string"),
            Property("right", "l.right_code", "string"),
            Property("right_name", "l.right_name", "string"),
            Property("district", "dd.code", "string"),
            Property("cluster", "dd.cluster_id", "string"),
            Property("length_m", "round(l.length_m::numeric, 1)::float8", "number"),
            Property("last_inspected", "l.last_inspected", "date"),
            Property("next_due", NEXT_DUE, "date"),
            Property("status", "l.status", "string"),
            Property("overdue", "l.last_inspected IS NULL OR " + NEXT_DUE + " < {today}", "boolean"),
            Property("is_synthetic", "l.is_synthetic", "boolean"),
            Property(
                "history_is_synthetic",
                "EXISTS (SELECT 1 FROM {inspection} i WHERE i.line_id = l.id AND i.is_synthetic)",
                "boolean",
            ),
        ),
        date_property="last_inspected",
    ),
    Collection(
        id="markers",
        title=_("Boundary markers"),
        description=_("Boundary markers (界桩) on the lines, with their status."),
        geometry_type="Point",
        fid="m.number",
        geometry="m.geom",
        from_sql="FROM {marker} m JOIN {line} ml ON ml.id = m.line_id AND ml.valid_to IS NULL",
        properties=(
            Property("number", "m.number", "string"),
            Property("line", "ml.code", "string"),
            Property("sequence", "m.sequence", "integer"),
            Property("marker_type", "m.marker_type", "string"),
            Property("status", "m.status", "string"),
            Property("last_checked", "m.last_checked", "date"),
            Property("is_synthetic", "m.is_synthetic", "boolean"),
        ),
        date_property="last_checked",
    ),
    Collection(
        id="facilities",
        title=_("Facilities"),
        description=_("Elder-care, funeral and community-service facilities."),
        geometry_type="Point",
        fid="f.id",
        geometry="f.point",
        from_sql="FROM {facility} f LEFT JOIN {division} ft ON ft.id = f.division_id"
        " LEFT JOIN {division} fd ON fd.id = f.district_id LEFT JOIN {division} fv ON fv.id = f.village_id",
        properties=(
            Property("name", "f.name", "string"),
            Property("category", "f.category", "string"),
            Property("operator", "f.operator", "string"),
            Property("beds", "f.beds", "integer"),
            Property("status", "f.status", "string"),
            Property("address", "f.address", "string"),
            Property("opening_date", "f.opening_date", "date"),
            Property("township_code", "ft.code", "string"),
            Property("township", "ft.name", "string"),
            Property("district_code", "fd.code", "string"),
            Property("district", "fd.name", "string"),
            Property("village_code", "fv.code", "string"),
            Property("is_synthetic", "f.is_synthetic", "boolean"),
            Property("source", "f.source", "string"),
        ),
        date_property="opening_date",
    ),
)

GAPS_PREFIX = "coverage-gaps-"
_JSON_CASTS = {"string": "", "integer": "::bigint", "number": "::float8", "boolean": "::boolean"}


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _merged_type(kinds: set[str]) -> str:
    """One JSON type for the values of a property (integers and floats together are numbers)."""
    if len(kinds) == 1:
        return next(iter(kinds))
    return "number" if kinds == {"integer", "number"} else "string"


def _gaps_features(standard: CoverageStandard) -> list[dict]:
    """The standard's gaps, kept ``GAPS_CACHE_S`` in the shared cache: a GIS client pages through
    them in many requests, and each computation takes up to half a second. Keyed by the rule, so an
    edited standard is computed afresh; a facility's change shows within ``GAPS_CACHE_S``."""
    rule = hashlib.md5(json.dumps(standard.describe(), sort_keys=True).encode(), usedforsecurity=False).hexdigest()
    return cache.get_or_set(
        f"ogc-gaps:{rule}",
        lambda: coverage_gaps(category=standard.category, kind=standard.kind, limit=MAX_GAPS)["features"],
        GAPS_CACHE_S,
    )


def _gaps_collection(standard: CoverageStandard, *, computed: bool = True) -> Collection:
    """The uncovered demand points of one active standard (worst first), computed now; without
    ``computed``, only what describes the collection (its id, title and description)."""
    features = _gaps_features(standard) if computed else []
    seen: dict[str, set[str]] = {}
    for feature in features:
        for name, value in feature["properties"].items():
            seen.setdefault(name, set()).update(() if value is None else (_json_type(value),))
    types = {name: _merged_type(kinds) for name, kinds in seen.items() if name.isidentifier()}
    properties = tuple(
        Property(name, "(g.e->'properties'->>'" + name + "')" + _JSON_CASTS[kind], kind) for name, kind in types.items()
    )
    label = str(dict(Facility.Category.choices).get(standard.category, standard.category))
    return Collection(
        id=f"{GAPS_PREFIX}{standard.category}-{standard.kind}",
        title=str(_("Coverage gaps: %(category)s (%(kind)s)")) % {"category": label, "kind": standard.kind},
        description=str(standard.description or standard),
        geometry_type="Point",
        fid="(g.e->'properties'->>'code')",
        geometry="ST_SetSRID(ST_GeomFromGeoJSON(g.e->'geometry'), 4326)",
        from_sql="FROM jsonb_array_elements(%(gaps)s::jsonb) AS g(e)",
        properties=properties,
        order="rank" if "rank" in types else "fid",
        params=lambda: {"gaps": json.dumps(features)},
    )


def collection_list() -> list[Collection]:
    """Every collection as it describes itself: the stored layers, then the gaps of each active
    standard (not computed)."""
    return [*STORED, *(_gaps_collection(s, computed=False) for s in coverage_standard_list())]


def _standard(collection_id: str) -> CoverageStandard:
    for standard in coverage_standard_list():
        if collection_id == f"{GAPS_PREFIX}{standard.category}-{standard.kind}":
            return standard
    raise NotFound(f"no collection {collection_id!r}")


def collection_meta(collection_id: str) -> Collection:
    """A collection as it describes itself (gaps not computed); NotFound if there is none."""
    for collection in STORED:
        if collection.id == collection_id:
            return collection
    return _gaps_collection(_standard(collection_id), computed=False)


def collection_get(collection_id: str) -> Collection:
    """A collection ready to be queried (a gaps collection is computed now); NotFound if none."""
    for collection in STORED:
        if collection.id == collection_id:
            return collection
    return _gaps_collection(_standard(collection_id))
