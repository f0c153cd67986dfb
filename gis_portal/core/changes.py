"""When the tables behind a read-only answer last changed, for ``Last-Modified`` and conditional GET
(``If-Modified-Since``). A statement trigger on each tracked table (installed by the apps'
migrations with ``track_changes``) records the time of each writing statement in
``core_table_change`` (the statement's, not its transaction's start: an import that runs for
minutes announces its change as of its last write, a moment before it commits);
``tables_changed_at`` reads the latest of a set of tables. A table without the trigger has no
record, and an answer that reads it has no ``Last-Modified`` (never a wrong one).

Each record also counts the statements that wrote to its table (``version``): ``tables_version``
names the state of a set of tables exactly, for keys of answers kept in the shared cache."""

import datetime
import re
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS
from django.db.migrations import RunSQL
from django.db.models import QuerySet
from django.db.models.sql import Query

from gis_portal.core import sql

# ``version`` counts the writing statements: the row lock orders concurrent writers, so every
# committed write raises it (two clocks read a moment apart could leave ``changed_at`` unchanged).
TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION core_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_table_change ("table", changed_at, version) VALUES (TG_TABLE_NAME, clock_timestamp(), 1)
    ON CONFLICT ("table") DO UPDATE SET changed_at = greatest(core_table_change.changed_at, EXCLUDED.changed_at),
        version = core_table_change.version + 1;
    RETURN NULL;
END $$;
"""


TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
START_RECORD = 'INSERT INTO core_table_change ("table", changed_at) VALUES (%s, now()) ON CONFLICT ("table") DO NOTHING'


def track_changes(*tables: str) -> list[RunSQL]:
    """Migration operations: record every write to ``tables`` (by statement, so a bulk import costs
    one row update) and start each table's record at the time of the migration."""
    operations = []
    for name in tables:
        if not TABLE_NAME.fullmatch(name):
            raise ValueError(f"not a table name: {name!r}")
        trigger = f"{name}_changed"[:63]
        # Identifiers checked above (they cannot be bound as parameters); the values are bound.
        create = f'CREATE TRIGGER "{trigger}" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{name}"'
        drop = f'DROP TRIGGER IF EXISTS "{trigger}" ON "{name}"'
        operations.append(
            RunSQL(
                [
                    create + " FOR EACH STATEMENT EXECUTE FUNCTION core_table_changed()",
                    (START_RECORD, [name]),
                ],
                reverse_sql=[drop, ('DELETE FROM core_table_change WHERE "table" = %s', [name])],
            )
        )
    return operations


def query_tables(query: Query) -> set[str]:
    """Every table a query reads: its joins (those ``select_related`` adds too) and the tables of
    its subqueries (``Exists``, ``Subquery``), found by compiling a copy."""
    query = query.clone()
    query.get_compiler(DEFAULT_DB_ALIAS).as_sql()
    tables = {join.table_name for join in query.alias_map.values()}
    pending = [*query.annotations.values(), query.where]
    while pending:
        node = pending.pop()
        inner = getattr(node, "query", None)
        if isinstance(inner, Query):
            tables |= query_tables(inner)
        children = getattr(node, "children", None)
        if children is not None:
            pending.extend(children)
        elif hasattr(node, "get_source_expressions"):
            pending.extend(e for e in node.get_source_expressions() if e is not None)
        for side in ("lhs", "rhs"):
            value = getattr(node, side, None)
            if value is not None and not isinstance(value, str | int | float | bool | list | tuple):
                pending.append(value)
    return tables


def tables_changed_at(tables: Iterable[str]) -> datetime.datetime | None:
    """The latest change of any of ``tables``, or None if one of them is not tracked."""
    tables = sorted(set(tables))
    found = sql.row(
        sql.compose(
            'SELECT count(*) AS n, max(changed_at) AS at FROM {change} WHERE "table" = ANY(%(tables)s)',
            change=sql.Identifier("core_table_change"),
        ),
        {"tables": tables},
    )
    if not tables or found["n"] < len(tables):
        return None
    return found["at"]


def queryset_changed_at(queryset: QuerySet) -> datetime.datetime | None:
    """When the data a queryset reads last changed (None: not known for every table it reads)."""
    return tables_changed_at(query_tables(queryset.query))


def tables_version(tables: Iterable[str]) -> str | None:
    """A name of the committed state of ``tables`` that changes with every write to any of them
    (their write counts and latest change), or None: a table is not tracked, or this transaction
    has written and not committed (what it reads is its own, not to be shared)."""
    tables = sorted(set(tables))
    if not tables:  # e.g. a layer computed per request: nothing it reads is tracked
        return None
    found = sql.row(
        sql.compose(
            "SELECT count(*) AS n, sum(version) AS version, max(changed_at) AS at,"
            " pg_current_xact_id_if_assigned() IS NOT NULL AS own_writes"
            ' FROM {change} WHERE "table" = ANY(%(tables)s)',
            change=sql.Identifier("core_table_change"),
        ),
        {"tables": tables},
    )
    if found["n"] < len(tables) or found["own_writes"]:
        return None
    return f"{found['version']}@{found['at'].timestamp():.6f}"
