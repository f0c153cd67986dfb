"""Logs as one JSON object a line, and one line a request (method, path, status, milliseconds,
user, request id). The request id comes from the proxy's ``X-Request-ID`` when it is a plain token,
is made up otherwise, goes back in the response's header, and reaches the database as a comment on
every statement of the request, so that a slow query in PostgreSQL's log leads to its request."""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from psycopg2 import sql

from gis_portal.core.replicas import every_connection

REQUEST_ID = ContextVar("request_id", default="")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Paths probed every few seconds by load balancers: answered, never logged.
QUIET_PATHS = ("/healthz", "/readyz")

request_logger = logging.getLogger("gis_portal.requests")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger, message, the request id when there is
    one, the exception when there is one, and any ``extra`` fields the caller gave."""

    STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if REQUEST_ID.get():
            entry["request_id"] = REQUEST_ID.get()
        entry.update({k: v for k, v in record.__dict__.items() if k not in self.STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _tagged(request_id: str):
    comment = f"/* request_id={request_id} */ "  # request_id matches _SAFE_ID: no quote, no */

    def wrapper(execute, statement, params, many, context):
        tagged = sql.SQL(comment) + statement if isinstance(statement, sql.Composable) else comment + statement
        return execute(tagged, params, many, context)

    return wrapper


class RequestLogMiddleware:
    """Give each request its id, tag its database statements with it, and log it when done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        try:
            with every_connection(_tagged(request_id)):
                response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response["X-Request-ID"] = request_id
        if not request.path.startswith(QUIET_PATHS):
            user = getattr(request, "user", None)
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - start) * 1000, 1),
                    "user": user.get_username() if user is not None and user.is_authenticated else None,
                    "request_id": request_id,
                    "reads": ",".join(getattr(request, "read_databases", ())) or None,  # core.replicas
                },
            )
        return response
