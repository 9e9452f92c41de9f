"""The one way we talk HTTP to a Saleor instance: GraphQL over httpx plus the JWKS fetch.

Errors are translated here into our error family and never leak as httpx exceptions:
connection problems, timeouts, 5xx and 429 are ``RetryableError``; 4xx, GraphQL errors and malformed
answers are ``PermanentError`` (permission problems get their own code).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from saleor_support_plugin import __version__
from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.saleor.documents import load_query
from saleor_support_plugin.types import SaleorApiUrl, saleor_origin

logger = logging.getLogger(__name__)

USER_AGENT = f"saleor-support-plugin/{__version__}"
MAX_RESPONSE_BYTES = 20 * 1024 * 1024


def _timeout() -> httpx.Timeout:
    seconds = support_settings().saleor_timeout_seconds
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _check_status(response: httpx.Response, what: str) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableError(
            SupportErrorCode.TEMPORARILY_UNAVAILABLE, f"{what}: Saleor answered HTTP {response.status_code}."
        )
    if response.status_code >= 400 and response.status_code != 400:
        code = (
            SupportErrorCode.SALEOR_PERMISSION_DENIED
            if response.status_code in (401, 403)
            else (SupportErrorCode.SALEOR_ERROR)
        )
        raise PermanentError(code, f"{what}: Saleor answered HTTP {response.status_code}.")


def _json(response: httpx.Response, what: str) -> Any:
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise PermanentError(SupportErrorCode.SALEOR_ERROR, f"{what}: response too large.")
    try:
        return response.json()
    except ValueError as exc:
        raise PermanentError(SupportErrorCode.SALEOR_ERROR, f"{what}: Saleor did not answer JSON.") from exc


def _request(method: str, url: str, *, what: str, transport: httpx.BaseTransport | None, **kw: Any) -> Any:
    try:
        with httpx.Client(timeout=_timeout(), transport=transport, follow_redirects=False) as http:
            response = http.request(method, url, headers={"User-Agent": USER_AGENT, **kw.pop("headers", {})}, **kw)
    except httpx.TimeoutException as exc:
        raise RetryableError(SupportErrorCode.TEMPORARILY_UNAVAILABLE, f"{what}: Saleor timed out.") from exc
    except httpx.HTTPError as exc:
        raise RetryableError(
            SupportErrorCode.TEMPORARILY_UNAVAILABLE, f"{what}: cannot reach Saleor ({type(exc).__name__})."
        ) from exc
    _check_status(response, what)
    return _json(response, what)


def jwks_fetch(api_url: SaleorApiUrl, *, transport: httpx.BaseTransport | None = None) -> dict:
    """GET ``<origin>/.well-known/jwks.json`` and check it looks like a JWKS with RSA keys."""
    data = _request("GET", f"{saleor_origin(api_url)}/.well-known/jwks.json", what="JWKS", transport=transport)
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) and k.get("kid") for k in keys):
        raise PermanentError(SupportErrorCode.JWKS_NOT_AVAILABLE, "Saleor served no usable JWKS.")
    return {"keys": keys}


def _graphql_errors(errors: list, what: str) -> PermanentError:
    messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:500]
    denied = any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("exception", {}).get("code") == "PermissionDenied"
        for e in errors
    )
    code = SupportErrorCode.SALEOR_PERMISSION_DENIED if denied else SupportErrorCode.SALEOR_ERROR
    return PermanentError(code, f"{what}: {messages}")


@dataclass
class SaleorClient:
    """GraphQL client bound to one Saleor API URL and app token."""

    api_url: SaleorApiUrl
    token: str
    transport: httpx.BaseTransport | None = field(default=None, repr=False)

    def execute(self, query_name: str, variables: dict | None = None) -> dict:
        """Run ``saleor/queries/<query_name>.graphql``; return ``data`` or raise our errors."""
        return self.execute_document(load_query(query_name), variables, what=query_name)

    def execute_document(self, document: str, variables: dict | None = None, *, what: str = "query") -> dict:
        body = _request(
            "POST",
            self.api_url,
            what=what,
            transport=self.transport,
            json={"query": document, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if not isinstance(body, dict):
            raise PermanentError(SupportErrorCode.SALEOR_ERROR, f"{what}: unexpected response shape.")
        if body.get("errors"):
            raise _graphql_errors(body["errors"], what)
        data = body.get("data")
        if not isinstance(data, dict):
            raise PermanentError(SupportErrorCode.SALEOR_ERROR, f"{what}: response has no data.")
        return data
