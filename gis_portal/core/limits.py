"""Limits every request meets before it can cost much: the size of its body (refused before it is
read, and again while it streams in), and a statement timeout for the public's database work that
ends below the worker's own timeout (a slow query answers 503, it does not hold a worker)."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from psycopg2 import errors as pg_errors

from gis_portal.core.errors import PayloadTooLarge, ServiceBusy
from gis_portal.core.pages import error_response
from gis_portal.core.replicas import every_connection

logger = logging.getLogger(__name__)


def body_limit(path: str) -> int:
    """The largest request body accepted on ``path``, in bytes: a file upload's limit on the paths
    that take files (``REQUEST_BODY_LIMITS``), Django's form-data limit elsewhere."""
    for prefix, limit in settings.REQUEST_BODY_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestLimitsMiddleware:
    """Refuse an over-long body before reading it (413), and give a public request's database work
    ``PUBLIC_STATEMENT_TIMEOUT_MS`` (a slow query ends with 503 and Retry-After)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            logger.warning("%s %s refused: body of %d bytes, limit %d", request.method, request.path, length, limit)
            response = error_response(
                request, PayloadTooLarge(f"the request body is {length:,} bytes; the limit here is {limit:,}")
            )
            response["Connection"] = "close"  # the unread body must not be taken for the next request
            return response
        public = not (request.user.is_authenticated or "HTTP_AUTHORIZATION" in request.META)
        timeout = settings.PUBLIC_STATEMENT_TIMEOUT_MS if public else settings.STATEMENT_TIMEOUT_MS
        with every_connection(_statement_timeout(timeout)):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and isinstance(exception.__cause__, pg_errors.QueryCanceled):
            logger.warning("%s %s: statement timeout", request.method, request.path)
            return error_response(request, ServiceBusy("the request took too long; try a smaller area or page"))
        return None


def _statement_timeout(ms: int):
    """An execute wrapper that gives the connection a statement timeout of ``ms`` before its first
    statement of the request, if it has another (a request that touches no table costs no query)."""

    def wrapper(execute, statement, params, many, context):
        db = context["connection"]
        wanted = (id(db.connection), ms)  # a reopened connection starts without it
        if getattr(db, "portal_statement_timeout", None) != wanted:
            db.portal_statement_timeout = wanted  # first, so that the SET below passes through
            with db.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(ms)])
        return execute(statement, params, many, context)

    return wrapper


class BodyLimitUploadHandler(FileUploadHandler):
    """Stop reading multipart files as soon as they pass the path's limit, whatever length the
    request declared (defence in depth: the middleware refuses a declared length up front, and
    Django never reads past the declared length)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = body_limit(self.request.path)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            logger.warning("%s: upload stopped past %d bytes", self.request.path, self.limit)
            raise RequestDataTooBig(f"the upload is larger than {self.limit:,} bytes")
        return raw_data

    def file_complete(self, file_size):
        return None
