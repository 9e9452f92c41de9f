"""The HTTP side of both GraphQL endpoints: size limit, authentication, then strawberry.

Status codes, decided here once:
- 413 for a body above ``GRAPHQL_MAX_BODY_BYTES``, before it is read.
- 401 when the caller is not authenticated (no/invalid/expired token, wrong issuer or app, unknown or
  inactive installation, failed guest proof), 503 when Saleor's JWKS or API is needed and unreachable.
  The body is GraphQL-shaped (``{"data": null, "errors": [{message, extensions: {code}}]}``) so GraphQL
  clients read it like any error, and the status lets the Dashboard's fetch wrapper see "token expired:
  refresh and retry" without parsing GraphQL. No resolver runs for an unauthenticated request.
- 200 for everything GraphQL answers: validation errors, FORBIDDEN on fields the user lacks Saleor
  permissions for (like Saleor's PermissionDenied), payload errors of mutations. Unexpected exceptions
  are masked ("Unexpected error.") and logged, still 200: never a 500 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from strawberry.django.views import GraphQLView

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import SupportErrorCode as Code
from saleor_support_plugin.graphql.auth import AuthenticationFailed
from saleor_support_plugin.graphql.context import Context, Shopper, StaffUser


def _error_response(status: int, code: Code, message: str) -> JsonResponse:
    response = JsonResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]})
    response.status_code = status
    if status == 401:
        error = ' error="invalid_token"' if code in (Code.INVALID_TOKEN, Code.TOKEN_EXPIRED) else ""
        response["WWW-Authenticate"] = f'Bearer realm="saleor-support"{error}'
    return response


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > support_settings().graphql_max_body_bytes


def _too_large_response() -> JsonResponse:
    limit = support_settings().graphql_max_body_bytes
    return _error_response(413, Code.PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes.")


class SupportGraphQLView(GraphQLView):
    """``as_view(schema=…, authenticate=staff_authenticate, principal="staff")``."""

    authenticate: Callable[[HttpRequest], StaffUser | Shopper] | None = None
    principal: str = ""

    def __init__(self, **kwargs: Any) -> None:
        # Reads go over POST like Saleor's own clients do; a GET with a query is refused (no URL-borne queries
        # in logs, no caching proxies). BaseView.__init__ would reset a class attribute, hence here.
        super().__init__(**{**kwargs, "allow_queries_via_get": False})

    def _wants_ide(self, request: HttpRequest) -> bool:
        return request.method == "GET" and bool(self.graphql_ide) and "text/html" in request.headers.get("Accept", "")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _too_large(request):
            return _too_large_response()
        # Every request except the GraphiQL page authenticates first, whatever its method.
        if not self._wants_ide(request):
            assert self.authenticate is not None, "SupportGraphQLView needs authenticate="
            try:
                self.caller = self.authenticate(request)
            except AuthenticationFailed as exc:
                return _error_response(exc.status, exc.code, exc.message)
        try:
            return super().dispatch(request, *args, **kwargs)
        except RequestDataTooBig:
            return _too_large_response()

    def get_context(self, request: HttpRequest, response: HttpResponse) -> Context:
        caller = getattr(self, "caller", None)
        return Context(request=request, response=response, **({self.principal: caller} if caller else {}))
