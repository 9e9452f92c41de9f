"""Proactive e-mails to the shopper when a rule opens a case (payment failed, order expired, delays).

Wording comes from the merchant's ``NoticeTemplate`` for the case's language, else the file shipped in
``saleor_support_plugin/notices/<rule>.<language>.txt``, else English. Variables use ``string.Template``
syntax (``$order_number``) and are substituted once with ``safe_substitute``: unknown variables stay as
written, and values are never read as templates, so a customer named "$amount" or "{x}" is printed as is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from string import Template

from django.db import transaction

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.locks import case_qs_select_for_update
from saleor_support_plugin.models import Case, CaseRule, NoticeTemplate, OutboundEmail, RuleSetting
from saleor_support_plugin.models.cases import ACTIVE_STATUSES
from saleor_support_plugin.services.email import outbound_email_queue

logger = logging.getLogger(__name__)

NOTICES_DIR = Path(__file__).resolve().parent.parent / "notices"
FALLBACK_LANGUAGE = "en"
# Saleor's LanguageCodeEnum has both NO and NB for Norwegian Bokmål; we ship "nb".
_LANGUAGE_ALIASES = {"no": "nb"}


@dataclass(frozen=True, slots=True)
class NoticeText:
    subject: str
    body: str
    # Values used when a variable is empty ("customer_name: there"), from the shipped file's header.
    defaults: dict[str, str]


def language_candidates(code: str) -> list[str]:
    """``"PT_BR"`` → ``["pt-br", "pt", "en"]``: Saleor's LanguageCodeEnum, most specific first, then English."""
    full = (code or "").strip().lower().replace("_", "-")
    base = _LANGUAGE_ALIASES.get(full.split("-")[0], full.split("-")[0])
    return list(dict.fromkeys(lang for lang in (full, base, FALLBACK_LANGUAGE) if lang))


@cache
def _shipped(rule: str, language: str) -> NoticeText | None:
    path = NOTICES_DIR / f"{rule}.{language}.txt"
    if not path.is_file():
        return None
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    fields = dict(line.split(":", 1) for line in head.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return NoticeText(subject=fields.pop("Subject"), body=body.strip() + "\n", defaults=fields)


def notice_text_resolve(*, case: Case, rule: str) -> NoticeText | None:
    """The wording for this case: merchant template, else shipped default, per language candidate in order."""
    merchant = {
        language_candidates(row.language)[0]: row
        for row in NoticeTemplate.objects.filter(installation_id=case.installation_id, rule=rule)
    }
    for language in language_candidates(case.language_code):
        shipped = _shipped(rule, language) or _shipped(rule, FALLBACK_LANGUAGE)
        if language in merchant:
            row = merchant[language]
            return NoticeText(subject=row.subject, body=row.body, defaults=shipped.defaults if shipped else {})
        if _shipped(rule, language):
            return _shipped(rule, language)
    return None


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01'))}"


def notice_variables(*, case: Case, facts: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    customer = case.customer
    values = {
        "case_number": str(case.number),
        "order_number": case.order_number,
        "amount": _money(case.value_at_risk),
        "currency": case.currency,
        "customer_name": customer.name if customer else "",
        "customer_email": customer.email if customer else "",
        "tracking_number": "",
    }
    # A fact overrides what the case knows only when it says something (an empty name keeps the customer's).
    values.update({str(key): str(value) for key, value in facts.items() if value not in (None, "")})
    return {key: value or defaults.get(key, "") for key, value in {**defaults, **values}.items()}


def notice_render(*, text: NoticeText, variables: dict[str, str]) -> tuple[str, str]:
    """(subject, body) with variables filled in; unknown ``$names`` stay as written."""
    return Template(text.subject).safe_substitute(variables), Template(text.body).safe_substitute(variables)


def _notify_enabled(case: Case, rule: str) -> bool:
    setting = RuleSetting.objects.filter(installation_id=case.installation_id, rule=rule).first()
    return setting is None or setting.notify_customer


def notice_queue(*, case: Case, rule: str, facts: dict[str, str]) -> OutboundEmail | None:
    """Queue the proactive e-mail for a rule case; None when nothing is to be sent.

    Nothing is sent (and nothing written, only logged) when the merchant opted out of this rule's notices
    (``RuleSetting.notify_customer``), the case has no customer e-mail, the case is no longer active, or no
    template exists for the rule. At most one notice per case and rule: a repeat returns the first one.
    Locks the case row. Writes: OutboundEmail, CaseEvent notice_queued. Enqueues (on commit): the send task.
    """
    if rule not in CaseRule.values:
        raise PermanentError(SupportErrorCode.INVALID, f"Unknown rule {rule!r}.", field="rule")
    kind = f"notice:{rule}"
    log = {"case_id": case.pk, "rule": rule}
    with transaction.atomic():
        case = case_qs_select_for_update().select_related("customer").get(pk=case.pk)
        earlier = OutboundEmail.objects.filter(case=case, kind=kind).order_by("pk").first()
        if earlier is not None:
            return earlier
        skip = _skip_reason(case, rule)
        text = None if skip else notice_text_resolve(case=case, rule=rule)
        if skip or text is None:
            logger.info("notice not sent: %s", skip or "no template", extra=log)
            return None
        subject, body = notice_render(
            text=text, variables=notice_variables(case=case, facts=facts, defaults=text.defaults)
        )
        email = outbound_email_queue(case=case, kind=kind, to_email=case.customer.email, body=body, subject=subject)
        events.event_notice_queued(case=case, email_id=email.pk, kind=kind, to=email.to_email)
    return email


def _skip_reason(case: Case, rule: str) -> str:
    if case.status not in ACTIVE_STATUSES:
        return f"case is {case.status}"
    if case.customer is None or not case.customer.email:
        return "no customer e-mail"
    if not _notify_enabled(case, rule):
        return "merchant opted out"
    return ""
