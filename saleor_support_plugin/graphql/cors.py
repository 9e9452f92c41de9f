"""CORS for ``/graphql/shopper/``: storefront pages call it from the shopper's browser, on another origin.

Only origins on the allow-list (``SHOPPER_CORS_ORIGINS``) get ``Access-Control-Allow-Origin``; any other
origin gets no CORS header at all, so its browser keeps the response from the page. Not the staff endpoint:
the Dashboard extension is served from this app's own origin (``APP_URL``), so its calls are same-origin.

No ``Access-Control-Allow-Credentials``: shoppers authenticate with headers (a customer token, or the guest
order proof), never with cookies, so the browser has no ambient credential to send and none is asked for.

The allow-list is configuration only. ``Installation.domain`` is Saleor's API host (the ``Saleor-Domain``
header at install), not the storefront's, and nothing we store names a storefront URL.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here, before the view, which
would otherwise demand authentication the browser never sends on a preflight.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from saleor_support_plugin.conf import origin_normalize, support_settings
from saleor_support_plugin.graphql.auth import GUEST_EMAIL_HEADER, GUEST_ORDER_HEADER

ALLOWED_METHODS = "POST, OPTIONS"
# Everything shopper_authenticate reads, plus Content-Type (application/json is not a "simple" type).
ALLOWED_HEADERS = ", ".join(
    ["Authorization", "Authorization-Bearer", "Content-Type", "Saleor-Api-Url", GUEST_ORDER_HEADER, GUEST_EMAIL_HEADER]
)
# The 401's hint ("token expired: refresh and retry") is worth reading from a storefront.
EXPOSED_HEADERS = "WWW-Authenticate"
PREFLIGHT_MAX_AGE_SECONDS = 3600


def cors_origin_allowed(origin: str) -> bool:
    allowed = support_settings().shopper_cors_origins
    return bool(origin) and ("*" in allowed or origin_normalize(origin) in allowed)


def _is_preflight(request: HttpRequest) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _preflight_response(origin_allowed: bool) -> HttpResponse:
    response = HttpResponse(status=204)
    if origin_allowed:
        response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


def shopper_cors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap the shopper view: answer preflights, and mark every response of an allowed origin readable."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        allowed = cors_origin_allowed(origin)
        response = _preflight_response(allowed) if _is_preflight(request) else view(request, *args, **kwargs)
        if allowed:
            # The request's own origin, never "*": the answer differs per origin, hence also Vary.
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        patch_vary_headers(response, ("Origin",))
        return response

    return wrapped
