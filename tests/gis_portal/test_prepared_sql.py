"""Prepared reads (``sql.Prepared``): the same rows as the query run plainly, on the first run (when
it is prepared on the connection) and the later ones, with placeholders used twice and a literal %."""

import pytest

from boundaries.models import Division
from gis_portal.core import sql

pytestmark = pytest.mark.django_db

QUERY = sql.compose(
    "SELECT code, name FROM {division} WHERE level = %(level)s AND (name LIKE '%%街道' OR code = %(code)s)"
    " AND level = %(level)s ORDER BY code LIMIT %(limit)s",
    division=Division,
)
STATEMENT = sql.Prepared("test_streets_or_one", QUERY, ("level", "code", "limit"))


def test_prepared_rows_equal_the_plain_query_run_after_run():
    params = {"level": "township", "code": "500110122", "limit": 50}
    plain = sql.rows(QUERY, params)
    assert len(plain) == 50 and all(r["name"].endswith("街道") or r["code"] == "500110122" for r in plain)
    for _ in range(7):  # past the five custom plans after which PostgreSQL may keep a generic one
        assert sql.prepared_rows(STATEMENT, params) == plain
    districts = sql.prepared_rows(STATEMENT, {"level": "district", "code": "500101", "limit": 5})
    assert [r["code"] for r in districts] == ["500101"]  # no district name ends in 街道
