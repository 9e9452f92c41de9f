"""Celery tasks: thin wrappers that pass ids and call one service each.

Retries are owned here (``autoretry_for=RetryableError``); services never sleep or loop on errors.
``acks_late`` is safe because every service is guarded by row state (docs/architecture §1.6).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import OperationalError
from django.utils import timezone

from saleor_support_plugin.errors import RetryableError
from saleor_support_plugin.models import EventStatus, Installation, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_event_mark_failed, webhook_event_process

logger = logging.getLogger(__name__)

# Rows still `received` this long after arrival lost their task (broker outage, crash before publish).
STUCK_AFTER = timedelta(minutes=2)
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
    return webhook_event_process(event_id=event_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def inbox_sweep_task() -> int:
    """Re-enqueue inbox rows whose task got lost; duplicates are harmless (row-state guard)."""
    cutoff = timezone.now() - STUCK_AFTER
    ids = list(
        WebhookEvent.objects.filter(status=EventStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in ids:
        webhook_event_process_task.delay_on_commit(pk)
    if ids:
        logger.warning("inbox sweep re-enqueued %s stuck events", len(ids))
    return len(ids)


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


class OutboundEmailTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001 (Celery's signature)
        # Retries are exhausted (or the error was unexpected): the e-mail is failed, visibly, on the timeline.
        from saleor_support_plugin.services.email import outbound_email_mark_failed

        email_id = args[0] if args else kwargs.get("email_id")
        if email_id is not None:
            outbound_email_mark_failed(email_id=email_id, error=f"gave up: {type(exc).__name__}: {exc}")


@shared_task(
    base=OutboundEmailTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(RetryableError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=60,
    time_limit=90,
)
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


@shared_task(
    base=FeedbackEmailTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(RetryableError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=60,
    time_limit=90,
)
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
