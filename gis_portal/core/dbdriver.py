"""Django keeps psycopg2 while psycopg 3 is installed for the job queue's worker.

Django's PostgreSQL backend picks psycopg 3 whenever it can import it, and this project's SQL is
composed with ``psycopg2.sql`` and reads ``psycopg2.errors`` (``gis_portal.core.sql``, ``limits``).
procrastinate's worker needs psycopg 3 for its own connections (LISTEN/NOTIFY, async), so both
drivers are installed; settings import this module first, which loads Django's backend modules
with psycopg 3 hidden, so that they settle on psycopg2 for the life of the process. psycopg 3
stays importable for procrastinate afterwards.
"""

import sys

_BACKEND_MODULES = (
    "django.db.backends.postgresql.psycopg_any",
    "django.db.backends.postgresql.base",
)


def keep_psycopg2() -> None:
    """Import Django's PostgreSQL backend modules with psycopg 3 hidden (idempotent)."""
    import importlib

    if "django.db.backends.postgresql.psycopg_any" in sys.modules:
        from django.db.backends.postgresql.psycopg_any import is_psycopg3

        if is_psycopg3:
            raise RuntimeError("Django's backend was loaded with psycopg 3 before settings")
        return
    hidden = {
        name: sys.modules.pop(name) for name in list(sys.modules) if name == "psycopg" or name.startswith("psycopg.")
    }
    sys.modules["psycopg"] = None  # an import of it raises ImportError
    try:
        for name in _BACKEND_MODULES:
            importlib.import_module(name)
    finally:
        del sys.modules["psycopg"]
        sys.modules.update(hidden)


keep_psycopg2()
