"""SQL the apps write by hand, for what the ORM cannot say (PostGIS functions, KNN, lateral joins):
composed with ``psycopg2.sql``, so that identifiers and fragments are quoted and joined safely, with
every value bound as a parameter and rows read by column name.

A query is a template with ``{name}`` placeholders for identifiers and fragments and ``%(name)s``
placeholders for values::

    query = compose("SELECT code FROM {division} WHERE level = %(level)s", division=Division)
    rows(query, {"level": "district"})  # [{"code": "500101"}, ...]

A model passed to ``compose`` stands for its table (``_meta.db_table``), so no table name is written
out. Lists are bound as one parameter (``= ANY(%(codes)s)``), never spliced into the text.
"""

import re
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Model
from psycopg2 import sql

from gis_portal.core.replicas import read_alias, wrote

Composable = sql.Composable
Composed = sql.Composed
Identifier = sql.Identifier
Placeholder = sql.Placeholder
Literal = sql.Literal
SQL = sql.SQL
Params = Mapping[str, Any] | None


def table(model: type[Model]) -> sql.Identifier:
    """The quoted table name of a model."""
    return sql.Identifier(model._meta.db_table)


def compose(template: str, **parts: sql.Composable | type[Model]) -> sql.Composed:
    """``template`` with its ``{name}`` placeholders filled: a model by its table, a composable as
    itself. Literal braces in the SQL are written ``{{`` and ``}}``."""
    return sql.SQL(template).format(
        **{
            name: table(part) if isinstance(part, type) and issubclass(part, Model) else part
            for name, part in parts.items()
        }
    )


def join(parts: Iterable[sql.Composable], separator: str) -> sql.Composed:
    return sql.SQL(separator).join(list(parts))


def rows(
    query: sql.Composable, params: Params = None, *, local_settings: Mapping[str, str] | None = None
) -> list[dict]:
    """Run a query and return its rows as dicts keyed by column name. ``local_settings`` are set for
    this query only (``SET LOCAL``, inside a transaction), e.g. ``{"jit": "off"}``. A read: in a
    public request it may run on a replica (``gis_portal.core.replicas``); write with ``execute``."""
    alias = read_alias()
    with _maybe_atomic(local_settings, alias), connections[alias].cursor() as cursor:
        for name, value in (local_settings or {}).items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute(query, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Prepared:
    """A read planned once per connection: a server-side prepared statement (``PREPARE``), for a
    small query run very often whose planning costs more than its run (locate: 0.4-0.9 ms to plan,
    0.3 ms to run). PostgreSQL keeps a generic plan after a few runs when it is no worse than the
    custom ones. ``params`` names the query's ``%(name)s`` placeholders in the order they are bound."""

    name: str
    query: sql.Composed
    params: tuple[str, ...]


# The statements each open connection has prepared (a reopened connection starts with none).
_prepared: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def _numbered(statement: Prepared, raw_connection) -> str:
    """The query's text with ``$1``, ``$2``... for its placeholders, as ``PREPARE`` takes them."""
    text = statement.query.as_string(raw_connection)
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${statement.params.index(m.group(1)) + 1}", text)
    return numbered.replace("%%", "%")  # no parameters are bound to PREPARE itself


def prepared_rows(statement: Prepared, params: Mapping[str, Any]) -> list[dict]:
    """``rows`` for a prepared read: prepared on the connection the first time it runs there."""
    alias = read_alias()
    db = connections[alias]
    with db.cursor() as cursor:
        done = _prepared.setdefault(db.connection, set())
        if statement.name not in done:
            # PREPARE is not transactional: a rolled-back transaction keeps the statement.
            cursor.execute(f"PREPARE {statement.name} AS {_numbered(statement, db.connection)}")
            done.add(statement.name)
        placeholders = ", ".join(["%s"] * len(statement.params))
        cursor.execute(f"EXECUTE {statement.name} ({placeholders})", [params[name] for name in statement.params])
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, found, strict=True)) for found in cursor.fetchall()]


def row(query: sql.Composable, params: Params = None) -> dict | None:
    """The first row of a query as a dict, or None."""
    found = rows(query, params)
    return found[0] if found else None


def execute(query: sql.Composable, params: Params = None) -> int:
    """Run a statement; return the number of rows it touched."""
    wrote()
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.rowcount


def _maybe_atomic(local_settings: Mapping[str, str] | None, alias: str):
    # SET LOCAL semantics need a transaction; plain reads don't open one.
    return transaction.atomic(using=alias) if local_settings else nullcontext()


def stream(
    query: sql.Composable,
    params: Params = None,
    *,
    chunk_size: int = 2000,
    local_settings: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """The first column of each row of a query, read through a server-side cursor ``chunk_size``
    rows at a time inside one transaction: a large answer (a whole layer rendered by the database)
    is sent as it is read, never held whole. ``local_settings`` hold for this transaction alone
    (e.g. ``{"work_mem": "32MB"}``). Closing the generator early ends the cursor and the transaction."""
    alias = read_alias()  # a read: a replica in a public request, like ``rows``
    with transaction.atomic(using=alias):
        db = connections[alias]
        db.ensure_connection()
        if local_settings:
            with db.cursor() as settings_cursor:
                for name, value in local_settings.items():
                    settings_cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        with db.connection.cursor(name=f"stream_{uuid.uuid4().hex}") as cursor:
            cursor.itersize = chunk_size
            cursor.execute(query, params)
            while found := cursor.fetchmany(chunk_size):
                for found_row in found:
                    yield found_row[0]


def feature_template(*, with_id: bool, id_first: bool = True) -> str:
    """The SQL of one GeoJSON Feature as text, with ``{id}``, ``{geometry}``, ``{precision}`` and
    ``{properties}`` (a JSON object as text) to fill: the one template of every feature PostgreSQL
    writes, whether composed here (``geojson_feature``) or from a queryset
    (``gis_portal.core.features.FeatureText``). The geometry with ``ST_AsGeoJSON`` (null when there
    is none); the ``id`` before ``type`` as DRF-gis writes it, or after it."""
    head = """'{{"type":"Feature"'"""
    if with_id:
        head = (
            """'{{"id":' || to_json({id})::text || ',"type":"Feature"'"""
            if id_first
            else """'{{"type":"Feature","id":' || to_json({id})::text"""
        )
    return (
        "("
        + head
        + """ || ',"geometry":' || COALESCE(ST_AsGeoJSON({geometry}, {precision}), 'null')"""
        + """ || ',"properties":' || {properties} || '}}')"""
    )


def geojson_feature(
    *,
    geometry: sql.Composable,
    properties: Iterable[tuple[str, sql.Composable]],
    id: sql.Composable | None = None,
    precision: int = 6,
    id_first: bool = False,
) -> sql.Composed:
    """An SQL expression writing one GeoJSON Feature as text (``feature_template``): the geometry
    with ``ST_AsGeoJSON`` (``precision`` decimals), the properties with ``json_build_object`` in the
    order given, and the ``id`` when given (before ``type`` with ``id_first``, as DRF-gis does).
    PostgreSQL writes the feature; Python only joins the texts."""
    pairs = join((compose("{key}, {value}", key=sql.Literal(key), value=value) for key, value in properties), ", ")
    return compose(
        feature_template(with_id=id is not None, id_first=id_first),
        id=id if id is not None else sql.SQL(""),
        geometry=geometry,
        precision=sql.Literal(precision),
        properties=compose("json_build_object({pairs})::text", pairs=pairs),
    )
