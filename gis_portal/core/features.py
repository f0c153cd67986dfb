"""GeoJSON lists written by PostgreSQL: the one mechanism every paged GeoJSON list of the API uses.

A list still declares its answer with a DRF-gis ``GeoFeatureModelSerializer`` (it documents the
answer in the OpenAPI schema), but no serializer runs per row: ``serializer_properties`` reads the
serializer's fields once and turns each into an ORM expression (a model field, a ``source`` path
such as ``parent.code``, a ``SlugRelatedField``'s slug; a ``SerializerMethodField`` or anything
computed is given as an expression), and ``FeatureText`` makes PostgreSQL write each Feature as
text: ``json_build_object`` for the properties in the serializer's order, ``ST_AsGeoJSON`` (6
decimals, about 0.1 m, EPSG:4326) for the geometry, the ``id`` first as DRF-gis writes it. Python
only joins the texts (``collection_page_text``), never parses or re-encodes them.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    JSONField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from rest_framework import serializers

from gis_portal.core import sql

Property = tuple[str, Any]  # (name, expression or lookup path)

# DRF fields whose JSON PostgreSQL writes the same way from the column (strings, numbers, booleans,
# dates as YYYY-MM-DD). Decimals (strings in DRF), times with a zone and files are not among them.
_PLAIN_FIELDS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.IntegerField,
    serializers.FloatField,
    serializers.BooleanField,
    serializers.DateField,
    serializers.SlugRelatedField,
    serializers.ReadOnlyField,
    serializers.ModelField,
)


def serializer_properties(
    serializer_class: type, *, computed: Mapping[str, Any] | None = None
) -> tuple[Any, list[Property]]:
    """The ``(id, properties)`` of a GeoFeatureModelSerializer as ORM expressions, in its order: the
    id (None when ``id_field`` is False) and ``(name, expression)`` for every other field but the
    geometry. ``computed`` gives the expression of a field that is not a column (a
    ``SerializerMethodField``, a value its ``to_representation`` rewrites); a field this cannot
    translate faithfully raises ValueError when the list is declared, not when it answers."""
    computed = dict(computed or {})
    serializer = serializer_class()
    meta = serializer_class.Meta
    id_name = serializer.Meta.id_field  # DRF-gis sets it (the pk, or False) in __init__
    id_expression = None
    properties: list[Property] = []
    for name, field in serializer.fields.items():
        if name == meta.geo_field:
            continue
        expression = computed.pop(name, None)
        if expression is None:
            expression = _field_expression(serializer_class, name, field)
        if id_name and name == id_name:
            id_expression = expression
        else:
            properties.append((name, expression))
    if computed:
        raise ValueError(f"{serializer_class.__name__} has no fields {sorted(computed)}")
    return id_expression, properties


def _field_expression(serializer_class: type, name: str, field: serializers.Field) -> F:
    if isinstance(field, serializers.SerializerMethodField) or not isinstance(field, _PLAIN_FIELDS):
        raise ValueError(f"{serializer_class.__name__}.{name}: give its SQL expression in ``computed``")
    if isinstance(field, serializers.DateTimeField | serializers.DecimalField):
        raise ValueError(f"{serializer_class.__name__}.{name}: PostgreSQL would write it differently from DRF")
    path = field.source.replace(".", "__")
    if isinstance(field, serializers.SlugRelatedField):
        path = f"{path}__{field.slug_field}"
    return F(path)


def _literal(text: str) -> str:
    """A key as an SQL string literal (keys are names written in the code, never input)."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


class FeatureText(Expression):
    """One GeoJSON Feature as text, written by PostgreSQL: ``{"id"?, "type", "geometry",
    "properties"}`` in DRF-gis's order (the ``id`` first, left out when None; after ``type`` with
    ``id_first=False``, as ``gis_portal.core.formats.geojson_feature`` writes it). The geometry is
    rendered with ``ST_AsGeoJSON`` (``precision`` decimals; ``null`` when there is none)."""

    output_field = TextField()

    def __init__(
        self,
        *,
        geometry: Any,
        properties: Sequence[Property],
        id: Any = None,
        precision: int = 6,
        id_first: bool = True,
    ):
        super().__init__()
        self.id_first = id_first
        self.keys = [key for key, _ in properties]
        self.precision = int(precision)
        self.has_id = id is not None
        expressions = [geometry, *(value for _, value in properties)] + ([id] if self.has_id else [])
        self.expressions = [F(e) if isinstance(e, str) else e for e in expressions]

    def get_source_expressions(self):
        return self.expressions

    def set_source_expressions(self, exprs):
        self.expressions = list(exprs)

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        copy = self.copy()
        copy.is_summary = summarize
        copy.expressions = [
            e.resolve_expression(query, allow_joins, reuse, summarize, for_save) for e in self.expressions
        ]
        return copy

    def as_sql(self, compiler, connection):
        parts, params = [], []
        for expression in self.expressions:
            text, found = compiler.compile(expression)
            parts.append(text)
            params.extend(found)
        geometry, values = parts[0], parts[1 : 1 + len(self.keys)]
        pairs = ", ".join(f"{_literal(key)}, {value}" for key, value in zip(self.keys, values, strict=True))
        template = sql.feature_template(with_id=self.has_id, id_first=self.id_first)
        text = template.format(
            id=parts[-1] if self.has_id else "",
            geometry=geometry,
            precision=self.precision,
            properties=f"json_build_object({pairs})::text" if pairs else "'{}'",
        )
        return text, params


def feature_texts(queryset: QuerySet, feature: FeatureText, *, ids: Iterable[Any] | None = None) -> list[str]:
    """The features of ``queryset`` (of the rows ``ids``, in that order, when given) as GeoJSON texts."""
    if ids is None:
        return list(queryset.annotate(_feature=feature).values_list("_feature", flat=True))
    ids = list(ids)
    if not ids:
        return []
    found = dict(queryset.filter(pk__in=ids).annotate(_feature=feature).values_list("pk", "_feature"))
    return [found[pk] for pk in ids]


def collection_text(features: Sequence[str], **members: Any) -> str:
    """A FeatureCollection around feature texts PostgreSQL wrote, with foreign members (e.g.
    ``note``) before the features, as ``gis_portal.core.formats.geojson_collection`` orders them."""
    head = json.dumps({"type": "FeatureCollection", **members}, ensure_ascii=False)
    return f'{head[:-1]}, "features": [{",".join(features)}]}}'


def collection_page_text(*, features: Sequence[str], count: int, next: str | None, previous: str | None) -> str:
    """A page of a paged list, as DRF-gis's ``GeoJsonPagination`` writes it (``type``, ``count``,
    ``next``, ``previous``, ``features``), around feature texts PostgreSQL wrote."""
    head = json.dumps(
        {"type": "FeatureCollection", "count": count, "next": next, "previous": previous}, ensure_ascii=False
    )
    return f'{head[:-1]}, "features": [{",".join(features)}]}}'


class JSONObject(Func):
    """``json_build_object(key, value, ...)`` with the keys in the order given (Django's own
    ``JSONObject`` builds a jsonb, whose keys PostgreSQL reorders), for a property that is an object."""

    function = "json_build_object"
    output_field = JSONField()

    def __init__(self, **pairs: Any):
        super().__init__(*(part for key, value in pairs.items() for part in (Value(key), _expression(value))))


def _expression(value: Any) -> Any:
    return F(value) if isinstance(value, str) else value


def json_bound(day: str, after: str) -> Case:
    """A date bound known exactly or only to an interval, as ``{date, exact, after}`` (null without
    ``day``): the JSON ``boundaries.history_selectors.division_version_bounds`` gives."""
    exact = ExpressionWrapper(Q(**{f"{after}__isnull": True}), output_field=BooleanField())
    return Case(
        When(**{f"{day}__isnull": True}, then=Value(None)),
        default=JSONObject(date=day, exact=exact, after=after),
        output_field=JSONField(),
    )


def is_not_null(field: str) -> ExpressionWrapper:
    return ExpressionWrapper(Q(**{f"{field}__isnull": False}), output_field=BooleanField())


class Rounded(Func):
    """A float rounded to ``places`` decimals as PostgreSQL's numeric round, for JSON (Python's
    ``round`` of the same float writes the same number but for ties, which these lengths are not)."""

    template = "round((%(expressions)s)::numeric, %(places)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, places: int):
        super().__init__(_expression(expression), places=int(places))
