"""The pages' side of error handling: a ``ServiceError`` raised while rendering a page (or a view
that is not part of the DRF API, such as tiles or a report download) becomes an error page with its
status, or the API's JSON error body for machine paths. DRF views map their errors themselves
(``gis_portal.core.api.api_exception_handler``)."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from psycopg2 import errors as pg_errors

from gis_portal.core.api import error_body
from gis_portal.core.errors import ServiceError, ServiceUnavailable

logger = logging.getLogger(__name__)

# Paths whose clients read JSON, not pages.
MACHINE_PATHS = ("/api/", "/tiles/", "/ogc/")


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(MACHINE_PATHS)


def error_response(request: HttpRequest, error: ServiceError) -> HttpResponse:
    if wants_json(request):
        body = error_body(code=error.code, message=error.message, details=error.details)
        response = JsonResponse(body, status=error.status, json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "error.html", {"error": error}, status=error.status)
    if error.retry_after_s:
        response["Retry-After"] = str(error.retry_after_s)
    return response


def database_unreachable(exc: BaseException | None) -> bool:
    """The database cannot be reached or the connection was lost (a restart, a killed backend, a
    refused connection): not a statement timeout, which ``gis_portal.core.limits`` answers."""
    return isinstance(exc, OperationalError | InterfaceError) and not isinstance(exc.__cause__, pg_errors.QueryCanceled)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After while the database is unreachable: the API's JSON error on machine
    paths, otherwise a page that needs nothing from the database (no user, no session)."""
    error = ServiceUnavailable("the database cannot be reached; try again in a few seconds")
    if wants_json(request):
        return error_response(request, error)
    response = render(request, "503.html", status=error.status)
    response["Retry-After"] = str(error.retry_after_s)
    return response


class ServiceErrorMiddleware:
    """Map a ServiceError that escapes a view to its status: a page, or JSON on machine paths; the
    database unreachable to 503 (anywhere else, the portal's handler500 does the same)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unreachable(exception):
            logger.error("%s %s: database unreachable: %s", request.method, request.path, str(exception).strip()[:200])
            return unavailable_response(request)
        if not isinstance(exception, ServiceError):
            return None
        if exception.status >= 500:
            logger.error("%s %s: %s", request.method, request.path, exception.message)
        else:
            logger.info("%s %s refused (%s): %s", request.method, request.path, exception.status, exception.message)
        return error_response(request, exception)
