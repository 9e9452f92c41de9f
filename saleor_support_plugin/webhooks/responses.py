"""Map our error family onto HTTP answers Saleor understands (docs §4.3).

4xx means "never retry": forged, unknown, malformed or misaddressed requests. 5xx means "try again
later" and is reserved for transient failures on our side, so Saleor's retries can recover them.
"""

from __future__ import annotations

from django.http import JsonResponse

from saleor_support_plugin.errors import (
    PermanentError,
    RetryableError,
    SupportError,
    SupportErrorCode,
)
from saleor_support_plugin.webhooks.verification import Forbidden, Unauthorized

_STATUS_BY_CODE = {
    SupportErrorCode.PAYLOAD_TOO_LARGE: 413,
    SupportErrorCode.SALEOR_URL_NOT_ALLOWED: 403,
    SupportErrorCode.UNKNOWN_APP_ID: 401,
    SupportErrorCode.JWKS_NOT_AVAILABLE: 401,
    SupportErrorCode.INVALID_SIGNATURE: 401,
}


def error_response(error: SupportError) -> JsonResponse:
    if isinstance(error, RetryableError):
        status = 503
    elif isinstance(error, Unauthorized):
        status = 401
    elif isinstance(error, Forbidden):
        status = 403
    elif isinstance(error, PermanentError):
        status = _STATUS_BY_CODE.get(error.code, 400)
    else:
        status = 400
    payload = {"success": False, "error": {"code": error.code.value, "message": error.message}}
    return JsonResponse(payload, status=status)


def simple_error(status: int, code: SupportErrorCode, message: str) -> JsonResponse:
    return JsonResponse({"success": False, "error": {"code": code.value, "message": message}}, status=status)


def accepted(status: str) -> JsonResponse:
    return JsonResponse({"success": True, "status": status})
