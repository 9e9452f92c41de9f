"""Record events in the durable inbox and process them into snapshots."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Min, Q, QuerySet
from django.db.models.constants import OnConflict
from django.utils import timezone
from pydantic import ValidationError

from saleor_support_plugin.errors import NoOpError, PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.models import EventSource, EventStatus, Installation, WebhookEvent
from saleor_support_plugin.services.gdpr_snapshots import ERASED_BODY, inbox_body_erase_due

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
# A row failing transiently this many times is marked failed (`saleor-support replay` re-runs it).
MAX_ATTEMPTS = 8
RETRY_BACKOFF_MAX_SECONDS = 600.0
# Worth another attempt later: Saleor/LLM unreachable, database hiccup or deadlock, the task's soft time limit.
TRANSIENT_ERRORS = (RetryableError, OperationalError, InterfaceError, SoftTimeLimitExceeded)


def webhook_dedupe_key(*, api_url: str, event_type: str, raw_body: bytes) -> str:
    """sha256 over the Saleor URL, the event and the exact bytes Saleor signed."""
    digest = hashlib.sha256()
    for part in (api_url.encode(), b"\x00", event_type.encode(), b"\x00", raw_body):
        digest.update(part)
    return digest.hexdigest()


def poll_dedupe_key(*, api_url: str, kind: str, object_id: str, version: str) -> str:
    """sha256 over the Saleor URL, what was polled, the object and its change stamp."""
    return hashlib.sha256("\x00".join(("poll", api_url, kind, object_id, version)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """What ``webhook_event_record`` returns for a new row: its id (building a model instance costs more)."""

    pk: int


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
) -> RecordedEvent | None:
    """Insert the event into the inbox unless it is already there; return None for a duplicate.

    Writes: one WebhookEvent (``received``, due now). After commit of a new row: ``inbox_drain_kick()``, which
    makes sure a drain will run after this commit (a publish only when no drain is pending), unless the
    insert itself saw a drain pending that cannot miss the row (PostgreSQL in autocommit: inbox_drain.py).
    A duplicate kicks nothing.
    """
    from saleor_support_plugin.inbox_drain import inbox_drain_kick

    args = (installation.pk, source, event_type, dedupe_key, raw_body, object_id[:255], issued_at, is_echo)
    try:
        if connection.in_atomic_block:
            # A savepoint, so a refused insert (IntegrityError) cannot break the caller's transaction.
            with transaction.atomic():
                pk, kick = _insert_unless_duplicate(args, in_transaction=True)
        else:
            # One statement in autocommit is its own transaction: no BEGIN/COMMIT round trips.
            pk, kick = _insert_unless_duplicate(args, in_transaction=False)
    except IntegrityError:
        # Any other integrity failure (e.g. the installation row is gone) is refused the same way.
        return None
    if pk is None:
        # The unique dedupe_key says we already have it: a Saleor retry or a re-poll. Not an error.
        return None
    if kick:
        # After the commit, never before: a drain that started between our kick and our commit would not see
        # the row (inbox_drain.py). In autocommit the row is committed already: kick now.
        if connection.in_atomic_block:
            transaction.on_commit(inbox_drain_kick)
        else:
            inbox_drain_kick()
    return RecordedEvent(pk)


# Every column, NOT NULL ones spelt out (Django keeps field defaults in Python, not in the table). A model field
# added without a place here (and in support_inbox_insert(), migration 0007) fails
# tests/webhooks/test_inbox_insert.py instead of production inserts.
PG_INSERT_COLUMNS = (
    "installation_id", "source", "event_type", "dedupe_key", "raw_body", "object_id", "issued_at", "is_echo",
    "status", "attempts", "last_error", "received_at", "processed_at", "next_attempt_at",
)  # fmt: skip
_PG_INSERT_VALUES = ("%s",) * 8 + (f"'{EventStatus.RECEIVED.value}'", "0", "''", "now()", "NULL", "NULL")
# Built from constants only; every value is a parameter.
_PG_INSERT = (
    f"INSERT INTO {WebhookEvent._meta.db_table} ({', '.join(PG_INSERT_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(_PG_INSERT_VALUES)}) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, true"
)
# Autocommit: insert and read the drain flag in one round trip (migration 0007, inbox_drain.py).
_PG_INSERT_AND_CHECK = "SELECT event_id, kick FROM support_inbox_insert(%s, %s, %s, %s, %s, %s, %s, %s)"


def _insert_unless_duplicate(args: tuple, *, in_transaction: bool) -> tuple[int | None, bool]:
    """Insert unless the dedupe key exists: (the new row's id or None, whether it must kick a drain).

    PostgreSQL: one precompiled statement on a plain cursor (the ORM's insert compiler cost more than the
    round trip); in autocommit through ``support_inbox_insert()``, which also tells whether a kick is needed.
    Inside a transaction the plain INSERT (it must not hold the drain's lock until the caller commits) and
    always a kick. Other databases (SQLite under `make run`): the ORM's own insert, and always a kick.
    """
    if connection.vendor == "postgresql":
        sql = _PG_INSERT if in_transaction else _PG_INSERT_AND_CHECK
        if connection.queries_logged or connection.execute_wrappers:
            # Debug logging, query counting in tests, instrumentation: go through Django's cursor wrapper.
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                row = cursor.fetchone()
        else:
            row = _pg_execute_server_bound(sql, args)
        return (row[0], row[1]) if row else (None, False)
    installation_id, source, event_type, dedupe_key, raw_body, object_id, issued_at, is_echo = args
    event = WebhookEvent(
        installation_id=installation_id,
        source=source,
        event_type=event_type,
        dedupe_key=dedupe_key,
        raw_body=raw_body,
        object_id=object_id,
        issued_at=issued_at,
        is_echo=is_echo,
    )
    meta = WebhookEvent._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    rows = WebhookEvent._base_manager._insert(
        [event], fields=fields, returning_fields=[meta.pk], on_conflict=OnConflict.IGNORE
    )
    return (rows[0][0], True) if rows and rows[0] else (None, False)


def _pg_execute_server_bound(sql: str, args: tuple) -> tuple | None:
    """One statement on a psycopg cursor with server-side parameters (Django's cursors quote every value into
    the SQL text client-side: ~50 µs of Python for a 5 kB body). Not a prepared statement (poolers in
    transaction mode do not keep those). Errors are translated (and flagged on the connection) as Django's
    own are."""
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, args, prepare=False)
        return cursor.fetchone()


def _finish(event: WebhookEvent, status: str, error: str = "") -> None:
    event.status = status
    event.last_error = error[:MAX_ERROR_LENGTH]
    event.processed_at = timezone.now()
    fields = ["status", "last_error", "processed_at", "attempts"]
    # About an order/checkout/transaction whose shopper data was erased: once the row is done with (whatever
    # the outcome), its body goes the way the erasure sends every other inbox body of that object.
    if inbox_body_erase_due(event):
        event.raw_body = ERASED_BODY
        fields.append("raw_body")
    event.save(update_fields=fields)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def retry_delay(attempts: int) -> timedelta:
    """Wait after failed attempt number ``attempts``: 2^attempts s (capped at 10 min), jittered down to half.

    With MAX_ATTEMPTS = 8: 1–2 s, 2–4 s … 64–128 s; at most ~4 min from the first try to ``failed``,
    as Celery's ``retry_backoff=True, max_retries=8`` gave the per-event task before.
    """
    base = min(RETRY_BACKOFF_MAX_SECONDS, 2.0**attempts)
    return timedelta(seconds=random.uniform(base / 2, base))  # noqa: S311 (jitter, not security)


def _retry_later(event: WebhookEvent, exc: BaseException) -> str:
    """A transient failure: the row stays ``received`` until its backoff is over, or fails when out of attempts."""
    if event.attempts >= MAX_ATTEMPTS:
        _finish(event, EventStatus.FAILED, f"gave up after {event.attempts} attempts: {_error_text(exc)}")
        return EventStatus.FAILED
    event.last_error = _error_text(exc)[:MAX_ERROR_LENGTH]
    event.next_attempt_at = timezone.now() + retry_delay(event.attempts)
    event.save(update_fields=["attempts", "last_error", "next_attempt_at"])
    return EventStatus.RECEIVED


def _run(event: WebhookEvent, *, retry_here: bool) -> str:
    """Dispatch a locked ``received`` row and record the outcome on it (caller holds the row lock).

    ``retry_here``: a transient failure is recorded on the row (``_retry_later``) and an unexpected exception
    fails the row, as the drain wants; otherwise both propagate and roll everything back (Celery retries).
    """
    from saleor_support_plugin.inbox_dispatch import dispatch

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
    except TRANSIENT_ERRORS as exc:
        if not retry_here or transaction.get_rollback():
            raise  # the transaction itself is unusable: the caller records the attempt in a fresh one
        _retry_later(event, exc)
    except Exception as exc:
        if not retry_here or transaction.get_rollback():
            raise
        logger.exception("inbox event %s %s failed unexpectedly", event.pk, event.event_type)
        _finish(event, EventStatus.FAILED, _error_text(exc))
    else:
        _finish(event, EventStatus.PROCESSED)
    logger.info(
        "inbox event %s %s -> %s",
        event.pk,
        event.event_type,
        event.status if event.status != EventStatus.RECEIVED else f"retry at {event.next_attempt_at:%H:%M:%S}",
        extra={"saleor_api_url": event.installation.saleor_api_url},
    )
    return event.status


def _locked_received() -> QuerySet[WebhookEvent]:
    # of=self: without it PostgreSQL also locks the joined installation row, so a second worker would skip
    # (skip_locked) every other event of that Saleor and webhook inserts (FK check) would wait.
    return (
        WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("installation")
        .filter(status=EventStatus.RECEIVED)
    )


def webhook_event_process(*, event_id: int) -> str | None:
    """Turn one received inbox row into snapshot updates; return the final status, or None if skipped.

    Guard: only rows in ``received`` are processed, under a row lock (``skip_locked``), so a redelivered
    task, a drain and a second worker can never process one row twice. Writes: the row's status, plus
    whatever the handler writes, all in one transaction; a RetryableError rolls everything back and
    propagates (for the caller to retry: the Celery task, or the caller's own request).
    """
    with transaction.atomic():
        event = _locked_received().filter(pk=event_id).first()
        if event is None:
            return None
        return _run(event, retry_here=False)


@dataclass
class DrainResult:
    processed: int = 0  # rows that left `received` (processed, ignored or failed)
    retried: int = 0  # rows that stay `received` with a later next_attempt_at
    out_of_time: bool = False  # stopped by the time budget with rows possibly still due


def _process_next_due(claimed: list[int]) -> str | None:
    """Claim the oldest due row nobody else holds, process it in its own transaction; None if none is due."""
    with transaction.atomic():
        now = timezone.now()
        event = (
            _locked_received()
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("received_at")  # exactly the index's order: LIMIT 1 reads one index entry, no sort
            .first()
        )
        if event is None:
            return None
        claimed.append(event.pk)
        return _run(event, retry_here=True)


def _record_lost_attempt(event_id: int, exc: BaseException) -> str | None:
    """The row's transaction broke (connection lost, statement interrupted): count the attempt in a new one."""
    if not connection.in_atomic_block and not connection.is_usable():
        connection.close()  # the next query reconnects
    with transaction.atomic():
        event = _locked_received().filter(pk=event_id).first()
        if event is None:
            return None
        event.attempts += 1
        if isinstance(exc, TRANSIENT_ERRORS):
            return _retry_later(event, exc)
        _finish(event, EventStatus.FAILED, _error_text(exc))
        return EventStatus.FAILED


def webhook_events_drain(*, budget_seconds: float) -> DrainResult:
    """Process every due ``received`` row (``next_attempt_at`` null or past), oldest first, one transaction each.

    Concurrent drains share the work: each row is claimed with ``FOR UPDATE SKIP LOCKED``. A transient error
    (RetryableError, OperationalError, time limit) gives the row a later ``next_attempt_at`` (exponential
    backoff with jitter, capped at 10 min) and after MAX_ATTEMPTS attempts fails it; any other error fails
    the row. One bad row never blocks the others. Stops when no row is due or after ``budget_seconds``.
    Raises only when the database itself fails (the row is left as it was, for the next drain).
    """
    result = DrainResult()
    deadline = time.monotonic() + budget_seconds
    while True:
        if time.monotonic() >= deadline:
            result.out_of_time = True
            return result
        claimed: list[int] = []
        try:
            status = _process_next_due(claimed)
        except Exception as exc:
            if not claimed:
                raise  # could not even claim a row: the database is the problem, not a row
            status = _record_lost_attempt(claimed[0], exc)
        if status is None and not claimed:
            return result
        if status == EventStatus.RECEIVED:
            result.retried += 1
        elif status is not None:
            result.processed += 1


def webhook_events_next_retry_at() -> datetime | None:
    """When the earliest row waiting for a retry becomes due (None if no row waits)."""
    waiting = WebhookEvent.objects.filter(status=EventStatus.RECEIVED, next_attempt_at__gt=timezone.now())
    return waiting.aggregate(at=Min("next_attempt_at"))["at"]


def webhook_events_due_count(*, unkicked_after: timedelta, limit: int = 1000) -> int:
    """Rows a drain should take now but may not know about: a retry that is due, or a row older than
    ``unkicked_after`` that is still waiting for its first attempt (its kick was lost). At most ``limit``."""
    now = timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, received_at__lt=now - unkicked_after)
    return WebhookEvent.objects.filter(due, status=EventStatus.RECEIVED)[:limit].count()


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
    """Put failed (or stuck) rows back to ``received``, due now with a fresh set of attempts. Returns their ids.

    Writes: WebhookEvent.status/last_error/attempts/next_attempt_at. After commit: one drain kick.
    """
    from saleor_support_plugin.inbox_drain import inbox_drain_kick

    qs = WebhookEvent.objects.filter(status=status)
    if installation is not None:
        qs = qs.filter(installation=installation)
    if event_ids:
        qs = qs.filter(pk__in=event_ids)
    ids = list(qs.order_by("received_at").values_list("pk", flat=True)[:limit])
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=ids, status=status).update(
            status=EventStatus.RECEIVED, last_error="", attempts=0, next_attempt_at=None
        )
        if ids:
            transaction.on_commit(inbox_drain_kick)
    return ids
