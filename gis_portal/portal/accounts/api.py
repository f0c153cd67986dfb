"""API sign-in: exchange a user name and password for a token (``Authorization: Token <key>``).
Throttled per address, and failed attempts count towards django-axes' lock-out."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle

from gis_portal.core.api import error_body
from gis_portal.core.throttles import FailOpen


class TokenThrottle(FailOpen, AnonRateThrottle):
    scope = "token"


class TokenView(ObtainAuthToken):
    throttle_classes = [TokenThrottle]

    def get_serializer_context(self):
        # authenticate() gets Django's own request, on which django-axes marks a lock-out for its
        # middleware to answer (DRF's wrapper would keep the mark to itself).
        return {**super().get_serializer_context(), "request": self.request._request}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: JSON under /api/, the page elsewhere (429)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(code="locked_out", message="Too many failed sign-ins; try again in 15 minutes."), status=429
        )
    return render(request, "registration/locked_out.html", status=429)
