"""Errors raised by services and selectors: plain exceptions that carry their HTTP status, a code
and a message. Each surface maps them once: the API's exception handler to JSON
(``gis_portal.core.api``), the pages' middleware to an error page or JSON
(``gis_portal.core.pages``), management commands to a non-zero exit (``gis_portal.core.commands``).
"""

from typing import Any

MAX_REPORTED_LINES = 20


class ServiceError(Exception):
    """A request or input the service refuses; nothing was changed."""

    status = 400
    code = "bad_request"
    default_message = "Bad request."

    retry_after_s: int | None = None  # sent as Retry-After when set

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details  # machine-readable context, e.g. the id of a conflicting record
        super().__init__(self.message)


class InvalidParameter(ServiceError):
    code = "invalid_parameter"
    default_message = "A parameter is missing or malformed."


class InvalidData(ServiceError):
    """Input data (an import file, an upload) that cannot be accepted; nothing was written."""

    code = "invalid_data"
    default_message = "The data is invalid; nothing was changed."

    @classmethod
    def from_lines(cls, source: str, problems: list[str], *, what: str = "line") -> "InvalidData":
        """One error for a file with bad lines (or records): how many, the first few, nothing imported."""
        shown = "; ".join(problems[:MAX_REPORTED_LINES])
        more = f" (and {len(problems) - MAX_REPORTED_LINES} more)" if len(problems) > MAX_REPORTED_LINES else ""
        return cls(f"{source}: {len(problems)} bad {what}(s), nothing imported: {shown}{more}")


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    default_message = "You may not do this."


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class OutsideRegion(NotFound):
    code = "outside_region"
    default_message = "The point is outside Chongqing municipality."


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class PayloadTooLarge(ServiceError):
    status = 413
    code = "too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_format"
    default_message = "The file type is not supported."


class ServiceBusy(ServiceError):
    """The service is at its limit for this kind of request; the client should retry shortly."""

    status = 503
    code = "busy"
    default_message = "The service is busy; try again in a few seconds."
    retry_after_s = 5


class ServiceUnavailable(ServiceError):
    """A service the request needs (the database) cannot be reached; the client should retry."""

    status = 503
    code = "unavailable"
    default_message = "The service is briefly unavailable; try again in a few seconds."
    retry_after_s = 5


class InsufficientStorage(ServiceError):
    """The disk that keeps the request's data is full; nothing was written."""

    status = 507
    code = "insufficient_storage"
    default_message = "There is no room to store this; nothing was written. Tell the administrators."


class Unprocessable(ServiceError):
    """Well-formed input that cannot be processed within the service's limits (time, memory)."""

    status = 422
    code = "unprocessable"
    default_message = "The input cannot be processed."
