"""OGC API – Features (Parts 1, 2 and 3) under /ogc/, and whole-layer downloads, for GIS clients
(QGIS, ArcGIS, GDAL/OGR, OWSLib) over every app's tables: it reads them all, so it lives on the
top floor.

Built here rather than by mounting pygeoapi (evaluated first, as the issue prefers): pygeoapi is a
Flask/Starlette application whose Django mount still runs its own request and error handling, so
errors would not be the API's ``{"error": {"code", "message"}}`` and the service's throttles and
heavy-request bulkhead would not apply; its PostgreSQL provider reads one table per collection
through SQLAlchemy (a second connection pool and ORM), so the joined and computed attributes of
the v1 API (``parent_code``, ``cluster``, ``next_due``, ``overdue``, a facility's township) would
need database views, and the coverage gaps, computed per standard, are no table at all; and it
renders features in Python, row by row, which is what issue 12 measures as too slow. Here every
feature is written by PostgreSQL (``ST_AsGeoJSON`` and ``json_build_object``) and streamed.

CQL2 is parsed by pygeofilter (text and JSON), and translated to SQL with bound values in
``cql.py`` (pygeofilter's SQL backend puts values into the text with f-strings).
"""
