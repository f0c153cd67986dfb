"""SQL the boundaries tests check the data with, composed as the app composes it: ``{division}``,
``{piece}``, ``{line}``, ``{trijunction}`` and ``{marker}`` stand for the models' tables, values are
bound, and rows come back as dicts keyed by column name."""

from typing import Any

from boundaries.models import BoundaryLine, Division, DivisionPiece, Marker, TriJunction
from gis_portal.core import sql

TABLES = {
    "division": Division,
    "piece": DivisionPiece,
    "line": BoundaryLine,
    "trijunction": TriJunction,
    "marker": Marker,
}


def rows(template: str, params: sql.Params = None) -> list[dict]:
    return sql.rows(sql.compose(template, **TABLES), params)


def row(template: str, params: sql.Params = None) -> dict:
    """The one row of a query that has exactly one."""
    (only,) = rows(template, params)
    return only


def scalar(template: str, params: sql.Params = None) -> Any:
    """The one value of a query that selects one column of one row."""
    (value,) = row(template, params).values()
    return value
