"""Record events in the durable inbox and process them into snapshots."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from pydantic import ValidationError

from saleor_support_plugin.errors import NoOpError, PermanentError, SupportErrorCode
from saleor_support_plugin.models import EventSource, EventStatus, Installation, WebhookEvent

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


def webhook_dedupe_key(*, api_url: str, event_type: str, raw_body: bytes) -> str:
    """sha256 over the Saleor URL, the event and the exact bytes Saleor signed."""
    digest = hashlib.sha256()
    for part in (api_url.encode(), b"\x00", event_type.encode(), b"\x00", raw_body):
        digest.update(part)
    return digest.hexdigest()


def poll_dedupe_key(*, api_url: str, kind: str, object_id: str, version: str) -> str:
    """sha256 over the Saleor URL, what was polled, the object and its change stamp."""
    return hashlib.sha256("\x00".join(("poll", api_url, kind, object_id, version)).encode()).hexdigest()


def webhook_event_record(
    *,
    installation: Installation,
    event_type: str,
    raw_body: str,
    dedupe_key: str,
    object_id: str = "",
    issued_at: datetime | None = None,
    is_echo: bool = False,
    source: str = EventSource.WEBHOOK,
) -> WebhookEvent | None:
    """Insert the event into the inbox unless it is already there; return None for a duplicate.

    Writes: one WebhookEvent. Enqueues ``webhook_event_process_task`` after commit for a new row.
    """
    from saleor_support_plugin.tasks import webhook_event_process_task

    event = WebhookEvent(
        installation=installation,
        source=source,
        event_type=event_type,
        dedupe_key=dedupe_key,
        raw_body=raw_body,
        object_id=object_id[:255],
        issued_at=issued_at,
        is_echo=is_echo,
    )
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                inserted = _insert_unless_duplicate(event)
        else:
            # One statement in autocommit is its own transaction: no BEGIN/COMMIT round trips.
            inserted = _insert_unless_duplicate(event)
    except IntegrityError:
        # Any other integrity failure (e.g. the installation row is gone) is refused the same way.
        return None
    if not inserted:
        # The unique dedupe_key says we already have it: a Saleor retry or a re-poll. Not an error.
        return None
    webhook_event_process_task.delay_on_commit(event.pk)
    return event


def _insert_unless_duplicate(event: WebhookEvent) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` through the ORM's own insert (what ``save()`` uses).

    Returns False, leaving ``event`` unsaved, when a row with the same dedupe_key already exists.
    """
    meta = WebhookEvent._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    rows = WebhookEvent._base_manager._insert(
        [event], fields=fields, returning_fields=meta.db_returning_fields, on_conflict=OnConflict.IGNORE
    )
    if not rows or not rows[0]:
        return False
    for value, field in zip(rows[0], meta.db_returning_fields, strict=True):
        setattr(event, field.attname, value)
    event._state.adding = False
    event._state.db = WebhookEvent._base_manager.db
    return True


def _finish(event: WebhookEvent, status: str, error: str = "") -> None:
    event.status = status
    event.last_error = error[:MAX_ERROR_LENGTH]
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "last_error", "processed_at", "attempts"])


def webhook_event_process(*, event_id: int) -> str | None:
    """Turn one received inbox row into snapshot updates; return the final status, or None if skipped.

    Guard: only rows in ``received`` are processed, under a row lock (``skip_locked``), so a redelivered
    task, the sweeper and a second worker can never process one row twice. Writes: the row's status,
    plus whatever the handler writes, all in one transaction; a RetryableError rolls everything back
    for Celery to retry.
    """
    from saleor_support_plugin.inbox_dispatch import dispatch

    with transaction.atomic():
        event = (
            # of=self: without it PostgreSQL also locks the joined installation row, so a second worker
            # would skip (skip_locked) every other event of that Saleor and webhook inserts (FK check) wait.
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("installation")
            .filter(pk=event_id, status=EventStatus.RECEIVED)
            .first()
        )
        if event is None:
            return None
        event.attempts += 1
        try:
            with transaction.atomic():
                dispatch(event)
        except NoOpError as exc:
            _finish(event, EventStatus.IGNORED, str(exc))
        except ValidationError as exc:
            _finish(event, EventStatus.FAILED, f"{SupportErrorCode.INVALID}: payload does not match: {exc}")
        except PermanentError as exc:
            _finish(event, EventStatus.FAILED, str(exc))
        else:
            _finish(event, EventStatus.PROCESSED)
        logger.info(
            "inbox event %s %s -> %s",
            event.pk,
            event.event_type,
            event.status,
            extra={"saleor_api_url": event.installation.saleor_api_url},
        )
        return event.status


def webhook_event_mark_failed(*, event_id: int, error: str) -> None:
    """Record that retries are exhausted. Writes: the row, only if still ``received``."""
    WebhookEvent.objects.filter(pk=event_id, status=EventStatus.RECEIVED).update(
        status=EventStatus.FAILED, last_error=error[:MAX_ERROR_LENGTH], processed_at=timezone.now()
    )


def webhook_events_requeue(
    *,
    status: str = EventStatus.FAILED,
    installation: Installation | None = None,
    event_ids: list[int] | None = None,
    limit: int = 10_000,
) -> list[int]:
    """Put failed (or stuck) rows back to ``received`` and enqueue them. Returns their ids.

    Writes: WebhookEvent.status/last_error. Enqueues one task per row after commit.
    """
    from saleor_support_plugin.tasks import webhook_event_process_task

    qs = WebhookEvent.objects.filter(status=status)
    if installation is not None:
        qs = qs.filter(installation=installation)
    if event_ids:
        qs = qs.filter(pk__in=event_ids)
    ids = list(qs.order_by("received_at").values_list("pk", flat=True)[:limit])
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=ids, status=status).update(status=EventStatus.RECEIVED, last_error="")
        for pk in ids:
            webhook_event_process_task.delay_on_commit(pk)
    return ids
