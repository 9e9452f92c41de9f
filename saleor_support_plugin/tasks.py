"""Celery tasks: thin wrappers that pass ids and call one service each.

Retries are owned here (``autoretry_for=RetryableError``); services never sleep or loop on errors. The
exception is the inbox: one ``inbox_drain_task`` works through all due rows and a transient failure only
moves that row's ``next_attempt_at`` (services/inbox.py, inbox_drain.py), so one row never holds up others.
``acks_late`` is safe because every service is guarded by row state (docs/architecture §1.6).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from saleor_support_plugin.errors import RetryableError, SupportError
from saleor_support_plugin.inbox_drain import inbox_drain_kick, inbox_drain_pending_clear, inbox_drain_retry_kick
from saleor_support_plugin.models import Installation
from saleor_support_plugin.services.inbox import (
    webhook_event_mark_failed,
    webhook_event_process,
    webhook_events_drain,
    webhook_events_due_count,
    webhook_events_next_retry_at,
)

logger = logging.getLogger(__name__)

# A drain hands over to a fresh message after this long, so one long backlog cannot hog a worker process
# (and the task stays far below the time limits and the broker's visibility timeout).
DRAIN_BUDGET_SECONDS = 50.0
# Rows still waiting for their first attempt this long after arrival may have lost their kick.
UNKICKED_AFTER = timedelta(seconds=30)
SWEEP_BATCH = 1000


class InboxTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001 (Celery's signature)
        # Retries are exhausted (or the error was unexpected): keep the row, visibly failed, for `replay`.
        event_id = args[0] if args else kwargs.get("event_id")
        if event_id is not None:
            webhook_event_mark_failed(event_id=event_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=InboxTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(RetryableError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def webhook_event_process_task(event_id: int) -> str | None:
    """One row by id. The app no longer enqueues it (``inbox_drain_task`` does the work); it stays for
    messages queued by an older version during a deploy, and for processing one row by hand."""
    return webhook_event_process(event_id=event_id)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=DRAIN_BUDGET_SECONDS + 60,
    time_limit=DRAIN_BUDGET_SECONDS + 90,
)
def inbox_drain_task() -> dict[str, int]:
    """Process every due inbox row (see inbox_drain.py for why no row is missed), then hand over or schedule.

    Any number of these may run at once or be redelivered: rows are claimed with SKIP LOCKED and guarded by
    their status. Raises only for database failures (autoretry; rows stay for the next drain).
    """
    inbox_drain_pending_clear()  # first: a row committed after this kicks a new drain
    try:
        result = webhook_events_drain(budget_seconds=DRAIN_BUDGET_SECONDS)
    except SoftTimeLimitExceeded:
        inbox_drain_kick()
        raise
    if result.out_of_time:
        inbox_drain_kick()
    else:
        retry_at = webhook_events_next_retry_at()
        sweep_every = timedelta(seconds=settings.SUPPORT_SWEEP_INTERVAL_SECONDS)
        # Later retries are the sweeper's: it runs before then anyway.
        if retry_at is not None and retry_at - timezone.now() < sweep_every:
            inbox_drain_retry_kick(retry_at)
    if result.processed or result.retried:
        logger.info("inbox drain: %s done, %s to retry", result.processed, result.retried)
    return {"processed": result.processed, "retried": result.retried, "handed_over": int(result.out_of_time)}


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def inbox_sweep_task() -> int:
    """Backstop (beat): kick a drain when rows are due that no drain may know of. Returns how many (≤ 1000).

    Due: a retry whose time has come, or a row still waiting for its first attempt after UNKICKED_AFTER
    (its kick or its drain message was lost: broker outage, crash between commit and publish).
    """
    due = webhook_events_due_count(unkicked_after=UNKICKED_AFTER, limit=SWEEP_BATCH)
    if due:
        inbox_drain_kick(force=True)
        logger.info("inbox sweep: %s due events, drain enqueued", due)
    return due


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def poll_all_installations_task() -> int:
    """Fan out one poll task per active installation."""
    ids = list(Installation.objects.active().values_list("pk", flat=True))
    for pk in ids:
        poll_installation_task.delay(pk)
    return len(ids)


@shared_task(
    acks_late=True,
    autoretry_for=(RetryableError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=240,
    time_limit=300,
)
def poll_installation_task(installation_id: int) -> dict:
    from saleor_support_plugin.services.polling import installation_poll

    installation = Installation.objects.filter(pk=installation_id, is_active=True).first()
    if installation is None:
        logger.info("poll skipped: installation %s gone or inactive", installation_id)
        return {}
    return installation_poll(installation=installation)


# SMTP may be down for a while: back off from 30 s up to an hour, then give up visibly (on_failure).
EMAIL_SEND_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (RetryableError, OperationalError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 10,
    "soft_time_limit": 60,
    "time_limit": 90,
}


class OutboundEmailTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001 (Celery's signature)
        # Retries are exhausted (or the error was unexpected): the e-mail is failed, visibly, on the timeline.
        from saleor_support_plugin.services.email import outbound_email_mark_failed

        email_id = args[0] if args else kwargs.get("email_id")
        if email_id is not None:
            outbound_email_mark_failed(email_id=email_id, error=f"gave up: {type(exc).__name__}: {exc}")


@shared_task(base=OutboundEmailTask, **EMAIL_SEND_OPTIONS)
def outbound_email_send_task(email_id: int) -> str:
    from saleor_support_plugin.services.email import outbound_email_send

    return outbound_email_send(email_id=email_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def inbound_mailboxes_poll_task() -> int:
    """Fan out one poll task per active IMAP mailbox."""
    from saleor_support_plugin.models import InboundMailbox

    ids = list(InboundMailbox.objects.pollable().values_list("pk", flat=True))
    for pk in ids:
        inbound_mailbox_poll_task.delay(pk)
    return len(ids)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def inbound_mailbox_poll_task(mailbox_id: int) -> int:
    from saleor_support_plugin.services.mailboxes import inbound_mailbox_poll

    return inbound_mailbox_poll(mailbox_id=mailbox_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def case_delay_scan_task() -> int:
    """Open fulfilment/delivery delay cases whose deadline passed (delays fire no Saleor event)."""
    from saleor_support_plugin.services.case_rules import delay_scan

    return delay_scan()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def sla_scan_task() -> dict[str, int]:
    """Warnings, breaches and escalations for the cases whose SLA check is due (overlapping runs share the
    work: due rows are locked with SKIP LOCKED)."""
    from saleor_support_plugin.services.sla import sla_scan

    return sla_scan()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def outbound_email_sweep_task() -> int:
    """Re-enqueue e-mails whose send task was lost: still queued, never attempted, 10+ minutes old.

    Rows with attempts are in Celery's retry backoff and are left to it, so a sweep never races a retry.
    """
    from saleor_support_plugin.models import OutboundEmail, OutboundEmailStatus

    cutoff = timezone.now() - timedelta(minutes=10)
    ids = list(
        OutboundEmail.objects.filter(status=OutboundEmailStatus.QUEUED, attempts=0, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in ids:
        outbound_email_send_task.delay_on_commit(pk)
    if ids:
        logger.warning("e-mail sweep re-enqueued %s lost sends", len(ids))
    return len(ids)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def feedback_scan_task() -> dict[str, int]:
    """Ask the CSAT/NPS surveys that are due (each survey at most once: unique constraints)."""
    from saleor_support_plugin.services.feedback import feedback_scan

    return feedback_scan()


class FeedbackEmailTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001 (Celery's signature)
        # Retries are exhausted (or the error was unexpected): the survey e-mail is failed, visibly.
        from saleor_support_plugin.services.feedback_email import feedback_email_mark_failed

        request_id = args[0] if args else kwargs.get("request_id")
        if request_id is not None:
            feedback_email_mark_failed(request_id=request_id, error=f"gave up: {type(exc).__name__}: {exc}")


@shared_task(base=FeedbackEmailTask, **EMAIL_SEND_OPTIONS)
def feedback_email_send_task(request_id: int) -> str:
    from saleor_support_plugin.services.feedback_email import feedback_email_send

    return feedback_email_send(request_id=request_id)


class MessageTriageTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001 (Celery's signature)
        # Model retries ran out, or something unexpected broke: the message is still triaged, offline.
        from saleor_support_plugin.services.triage import message_triage_fallback

        message_id = args[0] if args else kwargs.get("message_id")
        if message_id is not None:
            message_triage_fallback(message_id=message_id, reason=f"task_failed:{type(exc).__name__}")


@shared_task(
    bind=True,
    base=MessageTriageTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(RetryableError, OperationalError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=120,
    time_limit=150,
)
def message_triage_task(self, message_id: int) -> str | None:
    """Triage an inbound message (model with offline fallback). SDK retries are off; these are the retries."""
    from saleor_support_plugin.services.triage import message_triage

    row = message_triage(message_id=message_id, final_attempt=self.request.retries >= self.max_retries)
    return None if row is None else row.intent


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def refunds_resume_task() -> int:
    """Carry on refunds interrupted between our ledger write and Saleor's answer (crash, timeout, 5xx),
    and look again at refunds the payment app is still processing. Each resume is idempotent: it first
    finds its own grant in Saleor by the ledger key, so nothing is granted twice.
    """
    from saleor_support_plugin.events import SYSTEM
    from saleor_support_plugin.models import RefundRecord
    from saleor_support_plugin.models.returns import RefundStatus
    from saleor_support_plugin.services.refunds import refund_resume

    cutoff = timezone.now() - timedelta(minutes=5)
    records = list(
        RefundRecord.objects.filter(
            status__in=[RefundStatus.REQUESTED, RefundStatus.GRANTED, RefundStatus.PENDING],
            updated_at__lt=cutoff,
            installation__is_active=True,
        )
        .select_related("installation")
        .order_by("updated_at")[:100]
    )
    for record in records:
        try:
            refund_resume(installation=record.installation, record=record, actor=SYSTEM)
        except SupportError as exc:
            logger.warning("refund %s not resumed: %s", record.pk, exc)
    return len(records)
