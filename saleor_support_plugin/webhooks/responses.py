"""Map our error family onto HTTP answers Saleor understands (docs §4.3).

4xx means "never retry": forged, unknown, malformed or misaddressed requests. 5xx means "try again
later" and is reserved for transient failures on our side, so Saleor's retries can recover them.

An ``Answer`` is the status and JSON payload, independent of the HTTP layer: the Django views and the
webhook fast path (webhooks/fastpath.py) turn the same answers into responses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    payload: dict

    def body(self) -> bytes:
        return json.dumps(self.payload).encode()


def error_answer(error: SupportError) -> Answer:
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
    return Answer(status, {"success": False, "error": {"code": error.code.value, "message": error.message}})


def simple_answer(status: int, code: SupportErrorCode, message: str) -> Answer:
    return Answer(status, {"success": False, "error": {"code": code.value, "message": message}})


ACCEPTED = Answer(200, {"success": True, "status": "accepted"})
DUPLICATE = Answer(200, {"success": True, "status": "duplicate"})


def json_response(answer: Answer) -> JsonResponse:
    return JsonResponse(answer.payload, status=answer.status)


def error_response(error: SupportError) -> JsonResponse:
    return json_response(error_answer(error))


def simple_error(status: int, code: SupportErrorCode, message: str) -> JsonResponse:
    return json_response(simple_answer(status, code, message))


def accepted(status: str) -> JsonResponse:
    return JsonResponse({"success": True, "status": status})
