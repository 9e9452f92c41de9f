"""Wording of the feedback surveys (e-mail and answer page), in the shopper's language.

Same approach as the proactive notices (``services/notices.py``): the merchant's ``NoticeTemplate`` for
the survey (rule ``csat_survey`` / ``nps_survey``) and language wins, else the shipped file
``notices/<kind>_survey.<language>.txt``, else English; ``string.Template`` variables are substituted
once with ``safe_substitute``. The shipped file's header also carries the answer page's labels
(``question``, ``submit``, …), so the page speaks the e-mail's language.
"""

from __future__ import annotations

from functools import cache

from django.urls import reverse

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.models import FeedbackKind, FeedbackRequest, NoticeTemplate
from saleor_support_plugin.models.feedback import SCORE_RANGES
from saleor_support_plugin.services.notices import (
    FALLBACK_LANGUAGE,
    NOTICES_DIR,
    NoticeText,
    language_candidates,
    notice_render,
)

SURVEY_RULES = {FeedbackKind.CSAT: "csat_survey", FeedbackKind.NPS: "nps_survey"}


@cache
def _shipped(rule: str, language: str) -> NoticeText | None:
    path = NOTICES_DIR / f"{rule}.{language}.txt"
    if not path.is_file():
        return None
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    fields = dict(line.split(":", 1) for line in head.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return NoticeText(subject=fields.pop("Subject"), body=body.strip() + "\n", defaults=fields)


def survey_text_resolve(*, installation_id: int, kind: str, language_code: str) -> NoticeText:
    """The survey wording for this language: merchant template, else shipped file, else English.

    A merchant template replaces subject and body; the page labels always come from the shipped file of
    the same language (merchants word e-mails, not our form).
    """
    rule = SURVEY_RULES[kind]
    merchant = {
        language_candidates(row.language)[0]: row
        for row in NoticeTemplate.objects.filter(installation_id=installation_id, rule=rule)
    }
    for language in language_candidates(language_code):
        shipped = _shipped(rule, language) or _shipped(rule, FALLBACK_LANGUAGE)
        if language in merchant:
            row = merchant[language]
            return NoticeText(subject=row.subject, body=row.body, defaults=shipped.defaults)
        if _shipped(rule, language):
            return shipped
    return _shipped(rule, FALLBACK_LANGUAGE)


def survey_url(*, request: FeedbackRequest, score: int | None = None) -> str:
    """The answer page of ``request`` (``?score=`` preselects a score; the page still needs a click)."""
    path = reverse("feedback-answer", kwargs={"installation_id": request.installation_id, "token": request.token})
    return f"{support_settings().app_url}{path}" + (f"?score={score}" if score is not None else "")


def _score_links(request: FeedbackRequest, text: NoticeText) -> str:
    low, high = SCORE_RANGES[request.kind]
    labels = {low: text.defaults.get("low_label", ""), high: text.defaults.get("high_label", "")}
    lines = []
    for score in range(high, low - 1, -1):
        label = f" ({labels[score]})" if labels.get(score) else ""
        lines.append(f"{score:>2}{label}: {survey_url(request=request, score=score)}")
    return "\n".join(lines)


def survey_email_render(*, request: FeedbackRequest, customer_name: str, case_number: str = "") -> tuple[str, str]:
    """(subject, body) of the survey e-mail for ``request``."""
    text = survey_text_resolve(
        installation_id=request.installation_id, kind=request.kind, language_code=request.language_code
    )
    values = {
        "customer_name": customer_name,
        "case_number": case_number,
        "order_number": request.order_number,
        "score_links": _score_links(request, text),
        "survey_url": survey_url(request=request),
    }
    variables = {**text.defaults, **{key: value or text.defaults.get(key, "") for key, value in values.items()}}
    return notice_render(text=text, variables=variables)


def survey_labels(*, request: FeedbackRequest, case_number: str = "") -> dict[str, str]:
    """The answer page's labels (question, low_label, high_label, comment_label, submit, thanks, expired)."""
    text = survey_text_resolve(
        installation_id=request.installation_id, kind=request.kind, language_code=request.language_code
    )
    variables = {"case_number": case_number, "order_number": request.order_number}
    return {
        key: notice_render(text=NoticeText(value, "", {}), variables=variables)[0]
        for key, value in text.defaults.items()
    }
