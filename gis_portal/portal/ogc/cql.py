"""CQL2 filters (OGC API – Features Part 3) as SQL: parsed by pygeofilter (its CQL2 text and JSON
parsers), then translated here into a ``psycopg2.sql`` fragment with every value bound as a
parameter. pygeofilter's own SQL backend writes values into the text with f-strings, so it is not
used; its Django backend would need the ORM's field paths for columns the collections compute in
SQL (``overdue``, ``parent_code``), so neither is.

What is understood: comparisons (``= <> < <= > >=``), ``LIKE`` (``%`` any run, ``_`` one
character, ``\\`` escape), ``IN``, ``BETWEEN``, ``IS NULL``, ``AND``/``OR``/``NOT``, ``CASEI``
(lower case), dates and timestamps (``DATE('2020-01-01')``, compared with date properties, and
``T_AFTER``/``T_BEFORE``/``T_EQUALS``/``T_DURING``), and every ``S_*`` spatial function on the
``geometry`` property against a WKT/GeoJSON geometry or a ``BBOX``, in ``filter-crs`` (CRS84 by
default). Property names are checked against the collection's queryables; a name it does not
offer, or a value of the wrong type, is a 400 naming it.
"""

import datetime
import json
from collections.abc import Callable, Mapping

from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from gis_portal.core import sql
from gis_portal.core.errors import InvalidParameter

GEOMETRY = "geometry"
COMPARISON = {
    ast.ComparisonOp.EQ: "=",
    ast.ComparisonOp.NE: "<>",
    ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=",
    ast.ComparisonOp.GT: ">",
    ast.ComparisonOp.GE: ">=",
}
SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects",
    ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains",
    ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches",
    ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps",
    ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}
# JSON-schema type of a queryable -> the Python values a literal compared with it may have.
LITERAL_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "date": (datetime.date,),
}


def filter_parse(text: str, *, lang: str) -> ast.Node:
    """A CQL2 filter in ``cql2-text`` or ``cql2-json`` as pygeofilter's syntax tree; 400 naming
    where it failed when it does not parse."""
    try:
        if lang == "cql2-json":
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                raise InvalidParameter(f"filter: not JSON ({error})") from None
            return parse_json(document)
        return parse_text(text)
    except InvalidParameter:
        raise
    except LarkError as error:
        where = ""
        if hasattr(error, "line") and hasattr(error, "column"):
            where = f" at line {error.line}, column {error.column}"
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidParameter(f"filter: malformed CQL2{where}: {first[:200]}") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        raise InvalidParameter(f"filter: malformed {lang}: {str(error)[:200]}") from None


class _ToSQL(Evaluator):
    """One filter's SQL: ``evaluate(node)`` returns a fragment; ``params`` collects its values."""

    def __init__(
        self, *, column: Callable[[str], sql.Composable], types: Mapping[str, str], geometry_sql: Callable
    ) -> None:
        self.column, self.types, self.geometry_sql = column, types, geometry_sql
        self.params: dict = {}

    def _bind(self, value) -> sql.Composable:
        name = f"cql{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def _check(self, node, *literals) -> None:
        """A literal compared with a property must have the property's type."""
        if not isinstance(node, ast.Attribute):
            return
        expected = LITERAL_TYPES.get(self.types.get(node.name, ""), ())
        for literal in literals:
            if isinstance(literal, ast.Node | values.Geometry | values.Envelope) or literal is None:
                continue
            if expected is LITERAL_TYPES["number"] and isinstance(literal, bool):
                raise InvalidParameter(f"filter: {node.name} is a number, not {literal!r}")
            if isinstance(literal, datetime.datetime) and expected == LITERAL_TYPES["date"]:
                continue
            if expected and not isinstance(literal, expected):
                raise InvalidParameter(f"filter: {node.name} is of type {self.types[node.name]}, not {literal!r}")

    @handle(ast.Not)
    def not_(self, node, sub):
        return sql.compose("(NOT {sub})", sub=sub)

    @handle(ast.And, ast.Or)
    def combination(self, node, lhs, rhs):
        return sql.compose("({lhs} " + ("AND" if isinstance(node, ast.And) else "OR") + " {rhs})", lhs=lhs, rhs=rhs)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        self._check(node.lhs, node.rhs)
        self._check(node.rhs, node.lhs)
        return sql.compose("({lhs} " + COMPARISON[node.op] + " {rhs})", lhs=lhs, rhs=rhs)

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        self._check(node.lhs, node.low, node.high)
        negation = "NOT " if node.not_ else ""
        return sql.compose("({lhs} " + negation + "BETWEEN {low} AND {high})", lhs=lhs, low=low, high=high)

    @handle(ast.Like)
    def like(self, node, lhs):
        # CQL2's LIKE is SQL's: % any run, _ one character, backslash escapes.
        self._check(node.lhs, node.pattern)
        operator = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return sql.compose(
            "({lhs} " + operator + " {pattern} ESCAPE {escape})",
            lhs=lhs,
            pattern=self._bind(node.pattern),
            escape=sql.Literal("\\"),
        )

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        self._check(node.lhs, *node.sub_nodes)
        negation = "NOT " if node.not_ else ""
        return sql.compose("({lhs} " + negation + "IN ({options}))", lhs=lhs, options=sql.join(options, ", "))

    @handle(ast.IsNull)
    def null(self, node, lhs):
        return sql.compose("({lhs} IS " + ("NOT " if node.not_ else "") + "NULL)", lhs=lhs)

    @handle(ast.TimeAfter, ast.TimeBefore, ast.TimeEquals, ast.TimeDuring)
    def temporal(self, node, lhs, rhs):
        if isinstance(node.rhs, values.Interval):
            if not isinstance(node, ast.TimeDuring):
                raise InvalidParameter("filter: only T_DURING takes an interval")
            return rhs(lhs)
        operator = {ast.TimeAfter: ">", ast.TimeBefore: "<", ast.TimeEquals: "="}.get(type(node))
        if operator is None:
            raise InvalidParameter("filter: T_DURING takes an interval")
        return sql.compose("({lhs} " + operator + " {rhs})", lhs=lhs, rhs=rhs)

    @handle(ast.TemporalPredicate, subclasses=True)
    def temporal_other(self, node, lhs, rhs):
        raise InvalidParameter(f"filter: {node.op.value} is not supported (T_AFTER, T_BEFORE, T_EQUALS, T_DURING are)")

    @handle(type(None))
    def open_end(self, node):
        return None

    @handle(values.Interval)
    def interval(self, node, start, end):

        def during(lhs):
            parts = [sql.compose("{lhs} >= {start}", lhs=lhs, start=start)] if start else []
            parts += [sql.compose("{lhs} <= {end}", lhs=lhs, end=end)] if end else []
            return sql.compose("({parts})", parts=sql.join(parts or [sql.SQL("TRUE")], " AND "))

        return during

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        return sql.compose(SPATIAL[node.op] + "({lhs}, {rhs})", lhs=lhs, rhs=rhs)

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        box = self.geometry_sql(box=(node.minx, node.miny, node.maxx, node.maxy), bind=self._bind)
        return sql.compose("ST_Intersects({lhs}, {box})", lhs=lhs, box=box)

    @handle(ast.Attribute)
    def attribute(self, node):
        if node.name not in self.types and node.name != GEOMETRY:
            offered = ", ".join([GEOMETRY, *self.types])
            raise InvalidParameter(f"filter: unknown property {node.name!r} (queryables: {offered})")
        return self.column(node.name)

    @handle(ast.Function)
    def function(self, node, *arguments):
        name = node.name.lower()
        if name == "lower" and len(arguments) == 1:  # CASEI()
            return sql.compose("lower({arg})", arg=arguments[0])
        if name == "bbox" and len(node.arguments) in (4, 6):
            numbers = node.arguments
            if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
                raise InvalidParameter("filter: BBOX takes numbers")
            half = len(numbers) // 2
            box = (numbers[0], numbers[1], numbers[half], numbers[half + 1])
            return self.geometry_sql(box=box, bind=self._bind)
        raise InvalidParameter(f"filter: function {node.name!r} is not supported")

    @handle(values.Geometry)
    def geometry(self, node):
        return self.geometry_sql(geojson=json.dumps(node.geometry), bind=self._bind)

    @handle(values.Envelope)
    def envelope(self, node):
        # pygeofilter's CQL2 JSON parser fills Envelope(x1, x2, y1, y2) with a "bbox" array in its own
        # order (minx, miny, maxx, maxy), so the fields hold those, in that order.
        return self.geometry_sql(box=(node.x1, node.x2, node.y1, node.y2), bind=self._bind)

    @handle(*values.LITERALS)
    def literal(self, node):
        if isinstance(node, list | datetime.time | datetime.timedelta):
            raise InvalidParameter(f"filter: a value of type {type(node).__name__} is not supported here")
        return self._bind(node)

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node, lhs, rhs):
        raise InvalidParameter("filter: arithmetic is not supported")


def filter_sql(
    node: ast.Node,
    *,
    column: Callable[[str], sql.Composable],
    types: Mapping[str, str],
    geometry_sql: Callable,
) -> tuple[sql.Composable, dict]:
    """A parsed filter as a boolean SQL fragment and its parameters. ``column(name)`` is the SQL of
    a property (``geometry`` for the geometry), ``types`` the queryables' JSON-schema types (``date``
    for dates), ``geometry_sql(geojson=|box=, bind=)`` a geometry literal in the stored CRS."""
    translator = _ToSQL(column=column, types=types, geometry_sql=geometry_sql)
    try:
        fragment = translator.evaluate(node)
    except InvalidParameter:
        raise
    except (NotImplementedError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise InvalidParameter(f"filter: not supported: {str(error)[:200] or type(error).__name__}") from None
    if not isinstance(fragment, sql.Composable):
        raise InvalidParameter("filter: not a condition")
    return fragment, translator.params
