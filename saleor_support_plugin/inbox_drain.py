"""Coalesced enqueue for the inbox: one ``inbox_drain_task`` processes every due row, however many arrived.

Instead of one Celery message per webhook, a new inbox row only makes sure that *a* drain will run after
its commit. The flag saying "a drain is on its way" is the one row of ``support_inbox_drain_state``
(``pending_until``), so this works the same with any broker:

    kick (after a new row's COMMIT):   set pending_until = now + 30 s unless it is already in the future
                                       → only if we set it: publish a drain
    drain task (at its start):         pending_until = NULL holding INBOX_LOCK exclusively (tried
                                       until no webhook insert is in flight), commit
                                       → loop: claim the next due row … none left

Why no committed row is left behind. Each statement of the drain runs in READ COMMITTED on a fresh
snapshot, and a kick runs only after the row's COMMIT returned. Take a row R committed at c, and its kick
at k > c:

- If the kick sets the flag, we publish a drain whose clear and SELECTs all happen after k > c: it sees R.
- If the flag was already set at k, whoever set it published a drain that has not cleared it yet, so some
  drain clears after k and then SELECTs after k > c: it sees R. (If that drain's message was lost, the flag
  lapses after 30 s and the next kick, or the beat sweeper for rows waiting > 30 s, publishes a new one.)
- A drain in progress whose clear came before k may or may not see R; that is fine, the above holds anyway.

Webhooks on PostgreSQL skip the kick when they can: ``support_inbox_insert()`` (migration 0007) inserts the
row and reads the flag in the same round trip, holding INBOX_LOCK in shared mode from before that read
until its COMMIT. Row R whose insert read "pending" at r:

- the drain that clears this flag needs INBOX_LOCK exclusively, so it clears only after R's COMMIT, then
  SELECTs: it sees R;
- a clear that came before r would have been seen at r (the read takes a fresh snapshot after the lock),
  unless another kick set the flag again after it, and then *its* drain's clear comes after R's COMMIT.

So such a row needs no kick of its own; a row that read "not pending" kicks as above. Inserts inside a
longer transaction (polling, tests) do not take the lock (they would hold the drain's clear for as long as
they run): they always kick after their COMMIT.

"Sees R" means it is claimed unless another drain holds its row lock (SKIP LOCKED), and that drain
processes it; if that drain's worker dies, acks_late + reject_on_worker_lost redeliver it. A drain
processes until no due row is left or its time budget is spent, then kicks again itself.

Retries need no message of their own either: a row that failed transiently gets ``next_attempt_at`` and the
drain schedules one delayed drain for the earliest such time (at most one pending: ``retry_at``), with the
beat sweeper as the backstop.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the inbox (migration 0007 spells the same number).
INBOX_LOCK_KEY = 6003663463426949720
# A pending flag whose drain message got lost stops suppressing kicks after this long.
DRAIN_PENDING_TTL_SECONDS = 30

_STATE_TABLE = "support_inbox_drain_state"
# One statement; recreates the row if it is gone (a `manage.py flush`). The WHERE sees the newest row version.
_PG_SET_PENDING = (
    f"INSERT INTO {_STATE_TABLE} (id, pending_until) VALUES (1, now() + interval '{DRAIN_PENDING_TTL_SECONDS} s')"  # noqa: S608
    f" ON CONFLICT (id) DO UPDATE SET pending_until = EXCLUDED.pending_until"
    f" WHERE {_STATE_TABLE}.pending_until IS NULL OR {_STATE_TABLE}.pending_until <= now() RETURNING id"
)
# The drain's clear: one statement in autocommit that holds INBOX_LOCK exclusively (so it commits only after the
# webhook inserts in flight) and releases it at its own COMMIT, inside the server. It only *tries* the lock:
# a drain that waited in the lock's queue would make every webhook insert queue behind it. Busy: try again.
PG_TRY_CLEAR_PENDING = (
    f"WITH inbox_lock AS (SELECT pg_try_advisory_xact_lock({INBOX_LOCK_KEY}) AS locked),"  # noqa: S608
    f" cleared AS (UPDATE {_STATE_TABLE} SET pending_until = NULL FROM inbox_lock WHERE id = 1 AND locked)"
    f" SELECT locked FROM inbox_lock"
)
# After CLEAR_PATIENCE_SECONDS of a lock never free, wait in line after all (webhooks queue for a moment).
PG_CLEAR_PENDING = (
    f"UPDATE {_STATE_TABLE} SET pending_until = NULL"  # noqa: S608 - constants only
    f" FROM (SELECT pg_advisory_xact_lock({INBOX_LOCK_KEY})) AS inbox_lock WHERE id = 1"
)
CLEAR_PATIENCE_SECONDS = 2.0


def _drain_task():
    from saleor_support_plugin.tasks import inbox_drain_task

    return inbox_drain_task


def _state():
    from saleor_support_plugin.models import InboxDrainState

    return InboxDrainState.objects


def _publish(**options) -> bool:
    try:
        _drain_task().apply_async(**options)
    except Exception as exc:  # noqa: BLE001 - the rows are committed; the sweeper publishes later
        logger.warning("could not enqueue the inbox drain (%s): the inbox sweeper will", exc)
        return False
    return True


def inbox_drain_kick(*, force: bool = False) -> bool:
    """Make sure a drain runs after now; call it only after the new rows are committed. True if we published.

    ``force`` publishes even when a drain is marked pending (the sweeper: that drain's message may be lost).
    Never raises: a database or broker that cannot be reached leaves the rows to the sweeper.
    """
    if force:
        return _publish()
    try:
        if not _set_pending():
            return False  # a drain is pending and will clear the flag, then SELECT, after now (module docstring)
    except DatabaseError as exc:
        # We cannot tell whether a drain is pending: publish (a spare drain is harmless, a missing one is not).
        logger.warning("inbox drain kick: could not read the pending flag (%s); publishing anyway", exc)
        return _publish()
    if _publish():
        return True
    with contextlib.suppress(DatabaseError):  # else it lapses by itself
        _state().filter(pk=1).update(pending_until=None)  # so that the next new row tries to publish again
    return False


def _set_pending() -> bool:
    """Mark a drain pending unless one is; True if we did (and so must publish)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_SET_PENDING)
            return cursor.fetchone() is not None
    now = timezone.now()
    until = now + timedelta(seconds=DRAIN_PENDING_TTL_SECONDS)
    lapsed = Q(pending_until__isnull=True) | Q(pending_until__lte=now)
    if _state().filter(lapsed, pk=1).update(pending_until=until):
        return True
    _, created = _state().get_or_create(pk=1, defaults={"pending_until": until})
    return created


def inbox_drain_pending_clear() -> None:
    """First step of a drain: from now on a new row's kick publishes another drain (module docstring).

    On PostgreSQL it waits for the webhook inserts in flight (they hold INBOX_LOCK shared until they commit),
    without making new ones wait for it.
    """
    try:
        if connection.vendor == "postgresql":
            _pg_clear_pending()
        else:
            _state().filter(pk=1).update(pending_until=None)
    except DatabaseError as exc:
        # Kicks stay suppressed until the flag lapses; then they, or the sweeper, publish again.
        logger.warning("inbox drain: could not clear the pending flag (%s)", exc)


def _pg_clear_pending() -> None:
    deadline = time.monotonic() + CLEAR_PATIENCE_SECONDS
    pause = 0.001
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(PG_TRY_CLEAR_PENDING)
            if cursor.fetchone()[0]:
                return
            time.sleep(pause)  # a webhook insert is in flight: it takes a millisecond
            pause = min(pause * 2, 0.02)
        cursor.execute(PG_CLEAR_PENDING)


def inbox_drain_retry_kick(at: datetime) -> bool:
    """Schedule one drain for ``at`` (when a retry becomes due) unless one already runs by then."""
    now = timezone.now()
    delay = max(0.0, (at - now).total_seconds())
    second = timedelta(seconds=1)
    try:
        # Free to schedule: nothing scheduled, the scheduled one has run, or it runs too late for ``at``.
        free = Q(retry_at__isnull=True) | Q(retry_at__lt=now - second) | Q(retry_at__gt=at + second)
        if not _state().filter(free, pk=1).update(retry_at=at):
            _, created = _state().get_or_create(pk=1, defaults={"retry_at": at})
            if not created:
                return False
    except DatabaseError as exc:
        # A race between two drains here costs one extra drain, no more; so does a failed bookkeeping.
        logger.warning("inbox drain: retry bookkeeping failed (%s); scheduling anyway", exc)
    return _publish(countdown=delay)
