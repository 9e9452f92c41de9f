"""HTTP interfaces Saleor calls: webhooks (verify → persist → enqueue), manifest and register."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportError, SupportErrorCode
from saleor_support_plugin.services.installations import installation_register
from saleor_support_plugin.types import saleor_api_url
from saleor_support_plugin.webhooks.intake import EnvironHeaders, webhook_receive
from saleor_support_plugin.webhooks.manifest import build_manifest
from saleor_support_plugin.webhooks.responses import error_response, json_response, simple_error

logger = logging.getLogger(__name__)


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > support_settings().webhook_max_body_bytes


def _read_body(request: HttpRequest) -> bytes | None:
    """The exact bytes Saleor signed, or None if the body is larger than we accept."""
    if _too_large(request):
        return None
    limit = support_settings().webhook_max_body_bytes
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
def saleor_webhook_view(request: HttpRequest, event_path: str) -> HttpResponse:
    """The Django route for webhooks. In production gunicorn serves POSTs to these URLs through the fast path
    (webhooks/fastpath.py), which gives the same answers from the same ``webhook_receive``."""
    if request.method != "POST":
        return simple_error(405, SupportErrorCode.INVALID, "Webhooks must be POSTed.")
    answer = webhook_receive(
        event_path=event_path, headers=EnvironHeaders(request.META), read_body=lambda: _read_body(request)
    )
    return json_response(answer)


@csrf_exempt
def manifest_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return simple_error(405, SupportErrorCode.INVALID, "Use GET.")
    return JsonResponse(build_manifest())


def _register_token(request: HttpRequest) -> str:
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise PermanentError(SupportErrorCode.INVALID, "Body is not valid JSON.") from exc
    token = body.get("auth_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise PermanentError(SupportErrorCode.REQUIRED, "auth_token is required.", field="auth_token")
    return token.strip()


@csrf_exempt
def register_view(request: HttpRequest) -> HttpResponse:
    """Saleor's token target: answers ``{"success": true}`` or a 4xx Saleor shows to the installing staff."""
    if request.method != "POST":
        return simple_error(405, SupportErrorCode.INVALID, "Register must be POSTed.")
    if _too_large(request):
        return simple_error(413, SupportErrorCode.PAYLOAD_TOO_LARGE, "Body too large.")
    try:
        api_url = saleor_api_url(request.headers.get("Saleor-Api-Url"))
        installation_register(
            api_url=api_url,
            token=_register_token(request),
            domain=request.headers.get("Saleor-Domain", ""),
            schema_version=request.headers.get("Saleor-Schema-Version", ""),
        )
    except RetryableError as exc:
        # Saleor deletes the app on any non-2xx; tell the staff member why so they can retry the install.
        return simple_error(502, exc.code, f"Could not reach Saleor to confirm the install: {exc.message}")
    except SupportError as exc:
        logger.info("register rejected: %s", exc)
        return error_response(exc)
    return JsonResponse({"success": True})
