"""Delivery of NPS survey e-mails, which belong to an order and may have no case.

Case e-mails go through ``OutboundEmail`` (``services/email.py``), which needs a case; an NPS request is
its own outbox row instead (``FeedbackRequest.email_*``), with the same contract: sent by a task after
commit, at least once, guarded by the row's status, transient SMTP errors retried by Celery.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F
from django.utils import timezone

from saleor_support_plugin.errors import RetryableError, SupportErrorCode
from saleor_support_plugin.models import FeedbackEmailStatus, FeedbackRequest, Installation
from saleor_support_plugin.services.surveys import survey_email_render

logger = logging.getLogger(__name__)

# A queued e-mail older than this lost its task (broker outage, crash before publish): enqueue it again.
LOST_AFTER = timedelta(minutes=15)
REQUEUE_BATCH = 200


def _refused_for_good(exc: Exception) -> bool:
    """A 5xx answer about this message or recipient will not change on retry (as in services/email.py)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def _build(request: FeedbackRequest) -> EmailMessage:
    customer_name = request.customer.name if request.customer else ""
    subject, body = survey_email_render(request=request, customer_name=customer_name)
    return EmailMessage(
        subject=" ".join(subject.split())[:255],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[request.to_email],
        # RFC 3834: out-of-office robots must not answer a survey (and open a case with it).
        headers={"Message-ID": request.email_message_id, "Auto-Submitted": "auto-generated"},
    )


def feedback_email_send(*, request_id: int) -> str:
    """Send one queued NPS survey e-mail and record the outcome.

    Guard: only ``queued`` rows are sent (a duplicate task, or an erasure meanwhile, finds another status).
    External: one SMTP session, outside any transaction. Writes: FeedbackRequest (email_status,
    email_attempts, email_error, email_sent_at). Raises RetryableError on transient SMTP/network errors
    (the row stays queued); a permanent refusal marks it failed.
    """
    request = FeedbackRequest.objects.select_related("customer").filter(pk=request_id).first()
    if request is None:
        logger.info("feedback request %s is gone", request_id)
        return "missing"
    if request.email_status != FeedbackEmailStatus.QUEUED:
        return f"skipped:{request.email_status}"
    message = _build(request)
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        if _refused_for_good(exc):
            feedback_email_mark_failed(request_id=request.pk, error=error, attempted=True)
            return "failed"
        FeedbackRequest.objects.filter(pk=request.pk).update(
            email_attempts=F("email_attempts") + 1, email_error=error[:2000]
        )
        raise RetryableError(SupportErrorCode.TEMPORARILY_UNAVAILABLE, f"SMTP unavailable: {exc}") from exc
    updated = FeedbackRequest.objects.filter(pk=request.pk, email_status=FeedbackEmailStatus.QUEUED).update(
        email_status=FeedbackEmailStatus.SENT,
        email_sent_at=timezone.now(),
        email_attempts=F("email_attempts") + 1,
        email_error="",
    )
    return "sent" if updated else "skipped"


def feedback_email_mark_failed(*, request_id: int, error: str, attempted: bool = False) -> bool:
    """Give up on a queued survey e-mail. Returns False if it was not queued. Writes: FeedbackRequest."""
    updated = FeedbackRequest.objects.filter(pk=request_id, email_status=FeedbackEmailStatus.QUEUED).update(
        email_status=FeedbackEmailStatus.FAILED,
        email_error=error[:2000],
        email_attempts=F("email_attempts") + int(attempted),
    )
    if updated:
        logger.warning("feedback e-mail %s failed: %s", request_id, error)
    return bool(updated)


def feedback_emails_requeue(*, installation: Installation, now: datetime) -> int:
    """Enqueue again the survey e-mails whose task got lost: queued, never attempted, ``LOST_AFTER`` old.

    Rows with attempts are in Celery's retry backoff and are left to it (as ``outbound_email_sweep_task``).
    """
    from saleor_support_plugin.tasks import feedback_email_send_task

    ids = list(
        FeedbackRequest.objects.filter(
            installation=installation,
            email_status=FeedbackEmailStatus.QUEUED,
            email_attempts=0,
            created_at__lt=now - LOST_AFTER,
        ).values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    for pk in ids:
        feedback_email_send_task.delay_on_commit(pk)
    return len(ids)
