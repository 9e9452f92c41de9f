"""``/api/feedback/<installation_id>/<token>``: where the shopper answers a CSAT/NPS survey.

``GET`` renders a small form in the survey's language (``?score=`` preselects the score the shopper
clicked in the e-mail). It never records anything: mail scanners and link previews open every link in
an e-mail, so a one-click answer over GET would record scores nobody gave. ``POST`` records the answer,
from that form (url-encoded or multipart, answered with HTML) or from a storefront's own
page (``application/json`` ``{"score": 4, "comment": "…"}``, answered with JSON).

The token is the credential; the installation id in the path scopes it, so another shop's token is a
404 like an unknown one. Rejections are 4xx with a reason (``{"error": {code, field, message}}``): 400
invalid input, 404 unknown link, 410 survey closed, 413 too large, 415 wrong content type.
"""

from __future__ import annotations

import json
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt

from saleor_support_plugin.errors import PermanentError, SupportError, SupportErrorCode
from saleor_support_plugin.models import FeedbackRequest, Installation
from saleor_support_plugin.models.feedback import SCORE_RANGES
from saleor_support_plugin.selectors.feedback import feedback_request_get_for_token
from saleor_support_plugin.services.feedback import feedback_answer
from saleor_support_plugin.services.notices import language_candidates
from saleor_support_plugin.services.surveys import survey_labels

MAX_BODY_BYTES = 16 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_ID = 2**63 - 1  # larger path ids would overflow the database's bigint (a 500) instead of a 404
_STATUS = {
    SupportErrorCode.NOT_FOUND: 404,
    SupportErrorCode.TOKEN_EXPIRED: 410,
    SupportErrorCode.PAYLOAD_TOO_LARGE: 413,
}
_DIGITS = re.compile(r"^[0-9]{1,3}$")
# The page loads nothing and may only post to itself; no referrer, so the token stays out of other logs.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


class _Rejected(PermanentError):
    """Refused by this view before any service ran; carries its own HTTP status."""

    def __init__(self, code: SupportErrorCode, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(code, message, field=field)
        self.status = status


def _error(code: SupportErrorCode, message: str, field: str | None = None, status: int = 400) -> _Rejected:
    return _Rejected(code, message, field=field, status=status)


def _score(value: object) -> int:
    if value is None or value == "":
        raise _error(SupportErrorCode.REQUIRED, "A score is required.", "score")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    raise _error(SupportErrorCode.INVALID, "The score must be a whole number.", "score")


def _comment(value: object) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    raise _error(SupportErrorCode.INVALID, "The comment must be text.", "comment")


def _parse(request: HttpRequest) -> tuple[int, str]:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = MAX_BODY_BYTES + 1
    if declared > MAX_BODY_BYTES:
        raise _error(SupportErrorCode.PAYLOAD_TOO_LARGE, "The answer is too large.", status=413)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError as exc:
            raise _error(SupportErrorCode.INVALID, "The body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise _error(SupportErrorCode.INVALID, "The body must be a JSON object.")
    elif request.content_type in FORM_TYPES:
        try:
            data = request.POST
        except MultiPartParserError as exc:
            raise _error(SupportErrorCode.INVALID, "The form data is malformed.") from exc
    else:
        raise _error(SupportErrorCode.INVALID, "Send application/json or a form.", status=415)
    return _score(data.get("score")), _comment(data.get("comment"))


def _status(error: SupportError) -> int:
    return error.status if isinstance(error, _Rejected) else _STATUS.get(error.code, 400)


def _json_error(error: SupportError) -> JsonResponse:
    body = {"code": error.code.value, "field": error.field, "message": error.message}
    return JsonResponse({"success": False, "error": body}, status=_status(error))


def _page(feedback: FeedbackRequest, *, score: int | None, comment: str, notice: str = "", done: bool = False) -> str:
    case_number = str(feedback.case.number) if feedback.case_id else ""
    labels = survey_labels(request=feedback, case_number=case_number)
    low, high = SCORE_RANGES[feedback.kind]
    if done:
        form = format_html("<p>{}</p>", labels.get("thanks", "Thank you!"))
    else:
        options = format_html_join(
            "",
            '<label><input type="radio" name="score" value="{}"{}> {}</label> ',
            ((n, " checked" if n == score else "", n) for n in range(low, high + 1)),
        )
        form = format_html(
            '<form method="post"><p class="scale"><span>{}</span>{}<span>{}</span></p>'
            '<p><label>{}<br><textarea name="comment" rows="4" maxlength="2000">{}</textarea></label></p>'
            '<p><button type="submit">{}</button></p></form>',
            labels.get("low_label", ""),
            options,
            labels.get("high_label", ""),
            labels.get("comment_label", ""),
            comment,
            labels.get("submit", "Send"),
        )
    return format_html(
        '<!doctype html><html lang="{}"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title>'
        "<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}"
        "textarea{{width:100%}}.notice{{color:#a00}}</style></head>"
        '<body><h1>{}</h1><p class="notice">{}</p>{}</body></html>',
        language_candidates(feedback.language_code)[0],
        labels.get("question", ""),
        labels.get("question", ""),
        notice,
        form,
    )


def _html(content: str, status: int = 200) -> HttpResponse:
    return HttpResponse(content, status=status, content_type="text/html; charset=utf-8", headers=_HEADERS)


def _closed_page(feedback: FeedbackRequest) -> HttpResponse:
    labels = survey_labels(request=feedback)
    return _html(format_html("<!doctype html><p>{}</p>", labels.get("expired", "This survey has closed.")), 410)


def _get(request: HttpRequest, feedback: FeedbackRequest) -> HttpResponse:
    if timezone.now() > feedback.expires_at:
        return _closed_page(feedback)
    try:
        score = _score(request.GET.get("score"))
    except SupportError:
        score = feedback.score
    low, high = SCORE_RANGES[feedback.kind]
    score = score if score is not None and low <= score <= high else None
    return _html(_page(feedback, score=score, comment=feedback.comment))


def _post(request: HttpRequest, installation: Installation, feedback: FeedbackRequest, token: str) -> HttpResponse:
    wants_json = request.content_type not in FORM_TYPES
    try:
        score, comment = _parse(request)
        answered = feedback_answer(installation=installation, token=token, score=score, comment=comment)
    except SupportError as exc:
        if wants_json:
            return _json_error(exc)
        if exc.code == SupportErrorCode.TOKEN_EXPIRED:
            return _closed_page(feedback)
        notice = exc.message
        return _html(_page(feedback, score=None, comment=request.POST.get("comment", ""), notice=notice), _status(exc))
    if wants_json:
        return JsonResponse(
            {
                "success": True,
                "kind": answered.kind,
                "score": answered.score,
                "comment": answered.comment,
                "answeredAt": answered.answered_at.isoformat(),
            }
        )
    return _html(_page(answered, score=answered.score, comment=answered.comment, done=True))


@csrf_exempt
def feedback_answer_view(request: HttpRequest, installation_id: int, token: str) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return _json_error(_error(SupportErrorCode.INVALID, "Use GET or POST.", status=405))
    installation = (
        Installation.objects.active().filter(pk=installation_id).first() if installation_id <= MAX_ID else None
    )
    feedback = feedback_request_get_for_token(installation=installation, token=token) if installation else None
    if feedback is None:
        error = _error(SupportErrorCode.NOT_FOUND, "Unknown survey link.", "token", status=404)
        return _json_error(error) if request.method == "POST" else _html("<!doctype html><p>Not found.</p>", 404)
    if request.method == "GET":
        return _get(request, feedback)
    return _post(request, installation, feedback, token)
