"""Errors raised by services. Each carries its HTTP status and a code; the API's one handler
(gis_portal.api) turns them into JSON, management commands into a non-zero exit with the message."""

from rest_framework import exceptions, status


class ServiceError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "Bad request."

    def __init__(self, detail=None, code=None, *, details: dict | None = None):
        super().__init__(detail, code)
        self.details = details  # machine-readable context, e.g. the id of a conflicting record


class InvalidParameter(ServiceError):
    default_code = "invalid_parameter"
    default_detail = "A parameter is missing or malformed."


class InvalidData(ServiceError):
    """Input data (an import file, an upload) that cannot be accepted; nothing was written."""

    default_code = "invalid_data"
    default_detail = "The data is invalid; nothing was changed."


class NotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class OutsideRegion(NotFound):
    default_code = "outside_region"
    default_detail = "The point is outside Chongqing municipality."
