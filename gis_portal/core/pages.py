"""The pages' side of error handling: a ``ServiceError`` raised while rendering a page (or a view
that is not part of the DRF API, such as tiles or a report download) becomes an error page with its
status, or the API's JSON error body for machine paths. DRF views map their errors themselves
(``gis_portal.core.api.api_exception_handler``)."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gis_portal.core.api import error_body
from gis_portal.core.errors import ServiceError

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


class ServiceErrorMiddleware:
    """Map a ServiceError that escapes a view to its status: a page, or JSON on machine paths."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ServiceError):
            return None
        if exception.status >= 500:
            logger.error("%s %s: %s", request.method, request.path, exception.message)
        else:
            logger.info("%s %s refused (%s): %s", request.method, request.path, exception.status, exception.message)
        return error_response(request, exception)
