"""Outbound e-mail: queued as a row inside the caller's transaction, sent by a Celery task after commit.

Delivery is at-least-once: a worker that dies after the SMTP server accepted the mail but before the row
is marked sent will send it again on redelivery. E-mail has no better guarantee to offer, and the stable
Message-ID lets the shopper's client collapse such a duplicate.
"""

from __future__ import annotations

import logging
import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.models import Case, Message, OutboundEmail, OutboundEmailStatus

logger = logging.getLogger(__name__)

MAX_REFERENCES = 10


def reply_address(case: Case) -> str:
    """The address that routes a shopper's answer back to ``case`` (see services/inbound.py)."""
    return f"case+{case.reply_token}@{settings.SUPPORT_REPLY_DOMAIN}"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def outbound_email_queue(
    *, case: Case, kind: str, to_email: str, body: str, subject: str | None = None
) -> OutboundEmail:
    """Queue an e-mail to the shopper on ``case``; it is sent after the surrounding transaction commits.

    Writes: OutboundEmail (status queued, unique Message-ID). Enqueues (on commit): outbound_email_send_task.
    No SMTP here, so it is safe inside ``transaction.atomic``.
    """
    from saleor_support_plugin.tasks import outbound_email_send_task

    if not to_email:
        raise PermanentError(SupportErrorCode.REQUIRED, "A recipient is required.", field="to_email")
    email = OutboundEmail.objects.create(
        installation_id=case.installation_id,
        case=case,
        kind=kind[:32],
        to_email=to_email,
        subject=_one_line(subject if subject is not None else f"[#{case.number}] {case.subject}")[:255],
        body=body,
        message_id=make_msgid(domain=settings.SUPPORT_REPLY_DOMAIN),
    )
    outbound_email_send_task.delay_on_commit(email.pk)
    return email


def _thread_ids(email: OutboundEmail) -> list[str]:
    """Message-IDs already in this case's conversation, oldest first (ours that went out, and the shopper's)."""
    ours = OutboundEmail.objects.filter(case_id=email.case_id, status=OutboundEmailStatus.SENT, pk__lt=email.pk)
    theirs = Message.objects.filter(case_id=email.case_id).exclude(email_message_id="")
    dated = [*ours.values_list("created_at", "message_id"), *theirs.values_list("created_at", "email_message_id")]
    return [message_id for _, message_id in sorted(dated)][-MAX_REFERENCES:]


def _build(email: OutboundEmail) -> EmailMessage:
    headers = {"Message-ID": email.message_id}
    thread = _thread_ids(email)
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(thread)
    if email.kind.startswith("notice:"):
        # RFC 3834: tells auto-responders (out-of-office) not to answer, so no mail loop opens a case.
        headers["Auto-Submitted"] = "auto-generated"
    return EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_email],
        reply_to=[reply_address(email.case)],
        headers=headers,
    )


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer about this message or recipient will not change on retry; everything else might."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def _is_transient(exc: Exception) -> bool:
    # OSError covers refused connections, timeouts, resets and TLS failures.
    return isinstance(exc, smtplib.SMTPException | OSError)


def outbound_email_send(*, email_id: int) -> str:
    """Send one queued e-mail through Django's e-mail backend and record the outcome.

    Guard: only ``queued`` rows are sent (a retried or duplicated task finds ``sent`` and stops).
    External: one SMTP session (outside any transaction). Writes: OutboundEmail (status, attempts,
    last_error, sent_at), CaseEvent email_sent / email_failed. Raises RetryableError on transient
    SMTP or network errors (the row stays queued); a permanent refusal (5xx) marks it failed.
    """
    email = OutboundEmail.objects.select_related("case").filter(pk=email_id).first()
    if email is None:
        logger.info("outbound e-mail %s is gone", email_id)
        return "missing"
    if email.status != OutboundEmailStatus.QUEUED:
        return f"skipped:{email.status}"
    message = _build(email)
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
    except Exception as exc:
        if _is_permanent(exc):
            outbound_email_mark_failed(email_id=email.pk, error=f"{type(exc).__name__}: {exc}", attempted=True)
            return "failed"
        if not _is_transient(exc):
            raise
        _attempt_record(email.pk, error=f"{type(exc).__name__}: {exc}")
        raise RetryableError(SupportErrorCode.TEMPORARILY_UNAVAILABLE, f"SMTP unavailable: {exc}") from exc
    return _mark_sent(email.pk)


def _attempt_record(email_id: int, *, error: str) -> None:
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email_id)
        email.attempts += 1
        email.last_error = error[:2000]
        email.save(update_fields=["attempts", "last_error"])
    logger.warning("outbound e-mail %s not sent yet: %s", email_id, error)


def _mark_sent(email_id: int) -> str:
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().select_related("case").get(pk=email_id)
        if email.status != OutboundEmailStatus.QUEUED:
            return f"skipped:{email.status}"
        email.status, email.sent_at, email.last_error = OutboundEmailStatus.SENT, timezone.now(), ""
        email.attempts += 1
        email.save(update_fields=["status", "sent_at", "last_error", "attempts"])
        events.event_email_sent(case=email.case, email_id=email.pk, kind=email.kind)
    return "sent"


def outbound_email_mark_failed(*, email_id: int, error: str, attempted: bool = False) -> bool:
    """Give up on a queued e-mail (refused for good, or retries exhausted). Returns False if it was not queued.

    ``attempted`` counts this call as a send attempt (the task's give-up hook passes False: the failing
    attempt was already counted when it raised RetryableError).
    Writes: OutboundEmail (status failed, last_error), CaseEvent email_failed.
    """
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().select_related("case").filter(pk=email_id).first()
        if email is None or email.status != OutboundEmailStatus.QUEUED:
            return False
        email.status, email.last_error = OutboundEmailStatus.FAILED, error[:2000]
        email.attempts += int(attempted)
        email.save(update_fields=["status", "last_error", "attempts"])
        events.event_email_failed(case=email.case, email_id=email.pk, kind=email.kind, error=error)
    logger.warning("outbound e-mail %s failed: %s", email_id, error, extra={"case_id": email.case_id})
    return True
