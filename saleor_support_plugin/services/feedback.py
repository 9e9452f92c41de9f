"""Feedback surveys: settings, asking (CSAT after resolution, NPS after delivery) and recording answers.

A beat task (``feedback_scan_task``) finds what is due and calls the ``*_create`` services; every survey
is asked at most once (unique constraints), so overlapping scans and retries are harmless.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, SupportError, SupportErrorCode
from saleor_support_plugin.locks import case_qs_select_for_update
from saleor_support_plugin.models import (
    Case,
    CaseStatus,
    CheckoutSnapshot,
    Customer,
    FeedbackEmailStatus,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSettings,
    Installation,
    OrderSnapshot,
)
from saleor_support_plugin.models.feedback import SCORE_RANGES
from saleor_support_plugin.models.gdpr import ERASED_EMAIL_DOMAIN
from saleor_support_plugin.selectors.feedback import (
    feedback_csat_due_case_list,
    feedback_nps_due_order_list,
    feedback_request_get_for_token,
    order_delivered_at,
)
from saleor_support_plugin.services.email import outbound_email_queue
from saleor_support_plugin.services.feedback_email import feedback_emails_requeue
from saleor_support_plugin.services.surveys import survey_email_render

logger = logging.getLogger(__name__)

# How long the link accepts (and lets the shopper revise) an answer.
ANSWER_WINDOW = timedelta(days=30)
# NPS measures the relationship, not one parcel: a shopper is asked at most once in this period.
NPS_COOLDOWN = timedelta(days=90)
MAX_DELAY_MINUTES = 60 * 24 * 60
MAX_COMMENT = 2000
SCAN_BATCH = 200
CSAT_EMAIL_KIND = "notice:csat_survey"  # "notice:" marks it Auto-Submitted (services/email.py)


def _invalid(message: str, field: str) -> PermanentError:
    return PermanentError(SupportErrorCode.INVALID, message, field=field)


def _delay(value: int | None, field: str) -> int | None:
    if value is not None and (type(value) is not int or not 0 <= value <= MAX_DELAY_MINUTES):
        raise _invalid(f"{field} must be between 0 and {MAX_DELAY_MINUTES} minutes.", field)
    return value


def feedback_settings_update(
    *,
    installation: Installation,
    csat_enabled: bool | None = None,
    csat_delay_minutes: int | None = None,
    nps_enabled: bool | None = None,
    nps_delay_minutes: int | None = None,
    at: datetime | None = None,
) -> FeedbackSettings:
    """Change the installation's survey settings (None leaves a field as it is).

    Switching a survey on stamps ``*_enabled_at``: only cases/orders finished after it are asked.
    Writes: FeedbackSettings (created on first use).
    """
    at = at or timezone.now()
    changes = {
        "csat_delay_minutes": _delay(csat_delay_minutes, "csat_delay_minutes"),
        "nps_delay_minutes": _delay(nps_delay_minutes, "nps_delay_minutes"),
    }
    with transaction.atomic():
        row, _ = FeedbackSettings.objects.select_for_update().get_or_create(installation=installation)
        for kind, enabled in (("csat", csat_enabled), ("nps", nps_enabled)):
            if enabled is not None and enabled != getattr(row, f"{kind}_enabled"):
                changes[f"{kind}_enabled"] = bool(enabled)
                changes[f"{kind}_enabled_at"] = at if enabled else getattr(row, f"{kind}_enabled_at")
        changes = {field: value for field, value in changes.items() if value is not None}
        for field, value in changes.items():
            setattr(row, field, value)
        row.save(update_fields=[*changes, "updated_at"])
    return row


def _deliverable(email: str) -> bool:
    if not email or email.endswith(f"@{ERASED_EMAIL_DOMAIN}"):
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _channel_slug(case: Case) -> str:
    if case.order_saleor_id:
        rows = OrderSnapshot.objects.filter(installation_id=case.installation_id, saleor_id=case.order_saleor_id)
    elif case.checkout_saleor_id:
        rows = CheckoutSnapshot.objects.filter(installation_id=case.installation_id, saleor_id=case.checkout_saleor_id)
    else:
        return ""
    return rows.values_list("channel_slug", flat=True).first() or ""


def _csat_skip_reason(case: Case) -> str:
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) or case.resolved_at is None:
        return f"case is {case.status}"
    if case.merged_into_id is not None:
        return "case was merged"
    if case.customer is None or not _deliverable(case.customer.email):
        return "no deliverable customer e-mail"
    return ""


def feedback_request_csat_create(*, case: Case, at: datetime | None = None) -> FeedbackRequest | None:
    """Ask the shopper of a resolved case how satisfied they are (1–5); None when they must not be asked.

    Guard (under the case row lock): resolved (or closed after resolution), not merged, a deliverable
    customer address, and never asked before. Writes: FeedbackRequest, OutboundEmail (the survey, sent
    through the case's outbox), CaseEvent feedback_requested. Enqueues (on commit): the e-mail send task.
    """
    at = at or timezone.now()
    with transaction.atomic():
        case = case_qs_select_for_update().select_related("customer").get(pk=case.pk)
        skip = _csat_skip_reason(case)
        asked = FeedbackRequest.objects.filter(installation_id=case.installation_id, kind=FeedbackKind.CSAT, case=case)
        if not skip and asked.exists():
            skip = "already asked"
        if skip:
            logger.info("csat not requested: %s", skip, extra={"case_id": case.pk})
            return None
        request = FeedbackRequest.objects.create(
            installation_id=case.installation_id,
            kind=FeedbackKind.CSAT,
            token=secrets.token_urlsafe(24),
            case=case,
            customer=case.customer,
            order_saleor_id=case.order_saleor_id,
            order_number=case.order_number,
            channel_slug=_channel_slug(case),
            language_code=case.language_code or case.customer.language_code,
            to_email=case.customer.email,
            email_status=FeedbackEmailStatus.OUTBOX,
            created_at=at,
            expires_at=at + ANSWER_WINDOW,
        )
        subject, body = survey_email_render(
            request=request, customer_name=case.customer.name, case_number=str(case.number)
        )
        request.outbound_email = outbound_email_queue(
            case=case, kind=CSAT_EMAIL_KIND, to_email=request.to_email, body=body, subject=subject
        )
        request.save(update_fields=["outbound_email"])
        events.event_feedback_requested(case=case, request_id=request.pk, kind=request.kind)
    return request


def _nps_skip_reason(installation: Installation, order: OrderSnapshot, email: str, at: datetime) -> str:
    if order_delivered_at(order) is None:
        return "order is not delivered"
    if not _deliverable(email):
        return "no deliverable e-mail"
    recent = FeedbackRequest.objects.filter(
        installation=installation, kind=FeedbackKind.NPS, to_email=email, created_at__gte=at - NPS_COOLDOWN
    )
    return "asked recently" if recent.exists() else ""


def feedback_request_nps_create(
    *, installation: Installation, order: OrderSnapshot, at: datetime | None = None
) -> FeedbackRequest | None:
    """Ask the shopper of a delivered order how likely they are to recommend the shop (0–10).

    None when they must not be asked: not delivered, no deliverable address, asked within
    ``NPS_COOLDOWN``, or this order was already asked (unique constraint, so concurrent scans ask once).
    Writes: FeedbackRequest (queued). Enqueues (on commit): ``feedback_email_send_task``. The order may
    have no case, so the e-mail is not an OutboundEmail; the request row tracks its delivery.
    """
    from saleor_support_plugin.tasks import feedback_email_send_task

    if order.installation_id != installation.pk:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Order not found.", field="order")
    at = at or timezone.now()
    email = (order.user_email or "").strip().lower()
    skip = _nps_skip_reason(installation, order, email, at)
    if skip:
        logger.info("nps not requested: %s", skip, extra={"order_id": order.saleor_id})
        return None
    try:
        with transaction.atomic():
            request = FeedbackRequest.objects.create(
                installation=installation,
                kind=FeedbackKind.NPS,
                token=secrets.token_urlsafe(24),
                customer=Customer.objects.filter(installation=installation, email=email).first(),
                order_saleor_id=order.saleor_id,
                order_number=order.number,
                channel_slug=order.channel_slug,
                language_code=order.language_code,
                to_email=email,
                email_status=FeedbackEmailStatus.QUEUED,
                email_message_id=make_msgid(domain=settings.SUPPORT_REPLY_DOMAIN),
                created_at=at,
                expires_at=at + ANSWER_WINDOW,
            )
    except IntegrityError:
        return None  # another scan asked about this order a moment ago
    feedback_email_send_task.delay_on_commit(request.pk)
    return request


def feedback_requests_due_create(*, installation: Installation, now: datetime | None = None) -> dict[str, int]:
    """Ask every survey of this installation that is due now (at most ``SCAN_BATCH`` of each kind).

    Calls ``feedback_request_csat_create`` / ``feedback_request_nps_create`` (one transaction each, so
    one bad row does not hold back the rest) and re-enqueues NPS e-mails whose task got lost.
    Returns counts: {"csat", "nps", "requeued"}.
    """
    now = now or timezone.now()
    counts = {"csat": 0, "nps": 0, "requeued": 0}
    row = FeedbackSettings.objects.filter(installation=installation).first()
    if row is None:
        return counts
    if row.csat_enabled:
        for case in feedback_csat_due_case_list(installation=installation, settings=row, now=now, limit=SCAN_BATCH):
            counts["csat"] += feedback_request_csat_create(case=case, at=now) is not None
    if row.nps_enabled:
        due = feedback_nps_due_order_list(installation=installation, settings=row, now=now, limit=SCAN_BATCH)
        for order in due:
            counts["nps"] += feedback_request_nps_create(installation=installation, order=order, at=now) is not None
    counts["requeued"] = feedback_emails_requeue(installation=installation, now=now)
    return counts


def feedback_scan(*, now: datetime | None = None) -> dict[str, int]:
    """Run ``feedback_requests_due_create`` for every active installation that has a survey switched on."""
    totals = {"installations": 0, "csat": 0, "nps": 0, "requeued": 0}
    enabled = FeedbackSettings.objects.filter(Q(csat_enabled=True) | Q(nps_enabled=True))
    installations = Installation.objects.active().filter(pk__in=enabled.values("installation_id")).order_by("pk")
    for installation in installations:
        totals["installations"] += 1
        try:
            counts = feedback_requests_due_create(installation=installation, now=now)
        except SupportError:
            # One shop's problem must not keep the others' surveys back; the next run tries again.
            logger.exception("feedback scan failed", extra={"saleor_api_url": installation.saleor_api_url})
            continue
        for key, value in counts.items():
            totals[key] += value
    return totals


def _answer_comment(comment: str | None) -> str:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise _invalid(f"The comment is longer than {MAX_COMMENT} characters.", "comment")
    if "\x00" in text:
        raise _invalid("The comment contains a NUL character.", "comment")
    return text


def feedback_answer(
    *,
    installation: Installation,
    token: str,
    score: int,
    comment: str | None = "",
    respondent_email: str | None = None,
    at: datetime | None = None,
) -> FeedbackRequest:
    """Record the shopper's answer to a survey, or replace their earlier one.

    Answering again updates rather than refuses: shoppers click a score in the e-mail and then add a
    comment, double-submit, or change their mind, and a retried request must land on the same state.
    Submitting the same answer twice changes nothing. After ``expires_at`` answers are refused.
    ``respondent_email`` (a signed-in shopper) must be the address the survey went to; the link alone
    (``http/feedback_views.py``) is the credential otherwise.
    Raises PermanentError: NOT_FOUND (unknown token, another installation's, or someone else's), TOKEN_EXPIRED, INVALID
    (score outside the kind's range, comment too long). Writes: FeedbackRequest (score, comment,
    answered_at on the first answer, answer_updated_at), CaseEvent feedback_received (CSAT, on change).
    """
    at = at or timezone.now()
    text = _answer_comment(comment)
    with transaction.atomic():
        found = feedback_request_get_for_token(installation=installation, token=token)
        if found is not None and respondent_email is not None and found.to_email != respondent_email.strip().lower():
            found = None
        if found is None:
            raise PermanentError(SupportErrorCode.NOT_FOUND, "Unknown survey link.", field="token")
        request = FeedbackRequest.objects.select_for_update(of=("self",)).select_related("case").get(pk=found.pk)
        if at > request.expires_at:
            raise PermanentError(SupportErrorCode.TOKEN_EXPIRED, "This survey has closed.", field="token")
        low, high = SCORE_RANGES[request.kind]
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise _invalid(f"The score must be a whole number from {low} to {high}.", "score")
        if request.score == score and request.comment == text:
            return request
        revised = request.answered_at is not None
        request.score, request.comment, request.answer_updated_at = score, text, at
        request.answered_at = request.answered_at or at
        request.save(update_fields=["score", "comment", "answered_at", "answer_updated_at"])
        if request.case is not None:
            events.event_feedback_received(
                case=request.case, request_id=request.pk, kind=request.kind, score=score, changed=revised
            )
    return request
