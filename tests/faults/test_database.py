"""The server's database connections are ended under a running server (gunicorn from
gunicorn.conf.py, over the loaded test database): pg_terminate_backend, what an administrator or a
connection pooler does to one connection; the kept connections are reopened without an error.

PostgreSQL itself stopped and started is tests/faults/test_postgres_restart.py, on a cluster of
its own."""

from tests.faults.conftest import APP_NAME, get, terminate_backends

LOCATE = ("/api/v1/locate", {"lon": 106.5767, "lat": 29.5575})  # 渝中区


def test_killed_connections_are_reopened_without_an_error(gunicorn_server, admin_db):
    for _ in range(12):  # every worker thread opens its connection (kept: DB_CONN_MAX_AGE)
        assert get(gunicorn_server, *LOCATE).status_code == 200
    killed = terminate_backends(admin_db, application_name=APP_NAME)
    assert killed >= 1
    answers = [get(gunicorn_server, *LOCATE) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    assert answers[0].json()["district"]["name"] == "渝中区"
