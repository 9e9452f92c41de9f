"""Coalesced enqueue for the inbox: one ``inbox_drain_task`` processes every due row, however many arrived.

Instead of one Celery message per webhook, a new inbox row only makes sure that *a* drain will run after
its commit. With a Redis broker this costs one Redis command per new row, and a publish only when no drain
is already pending:

    web (per new row, after COMMIT):  SET support:inbox:drain-pending 1 NX EX 30  → only if it was set: publish
    drain task (at its start):        DEL support:inbox:drain-pending  → loop: claim the next due row … none left

Why no committed row is left behind. PostgreSQL runs each statement of the drain in READ COMMITTED on a
fresh snapshot, and the web process kicks only after its COMMIT returned. Take a row R committed at c, and
its kick's SET at s > c:

- If the SET succeeds, the key was absent: we publish a drain whose DEL and SELECTs all happen after s > c,
  so it sees R.
- If the SET fails, the key was present at s. Whoever set it published a drain that has not yet run its
  DEL (the DEL removes the key), so some drain DELs after s and then SELECTs after s > c: it sees R.
  (If that drain's message was lost, the key expires after 30 s and the next kick, or the beat sweeper
  for rows waiting > 30 s, publishes a new one.)
- A drain in progress whose DEL came before s may or may not see R; that is fine, the above holds anyway.

"Sees R" means it is claimed unless another drain holds its row lock (SKIP LOCKED), and that drain
processes it; if that drain's worker dies, acks_late + reject_on_worker_lost redeliver it. A drain
processes until no due row is left or its time budget is spent, then kicks again itself.

Retries need no message of their own either: a row that failed transiently gets ``next_attempt_at`` and the
drain schedules one delayed drain for the earliest such time (at most one pending, tracked in Redis), with
the beat sweeper as the backstop.

Brokers other than Redis (the filesystem broker of `make run`, RabbitMQ) or eager mode: no shared flag, so
every kick publishes. Still correct (each publish happens after its commit); only the coalescing is lost.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from datetime import datetime

from django.utils import timezone

logger = logging.getLogger(__name__)

DRAIN_PENDING_KEY = "support:inbox:drain-pending"
# A pending flag whose drain message got lost stops suppressing kicks after this long.
DRAIN_PENDING_TTL_SECONDS = 30
# The time (epoch seconds) the one scheduled retry drain will run at.
DRAIN_RETRY_KEY = "support:inbox:drain-retry-at"

_UNSET = object()
_client: object = _UNSET
_client_lock = threading.Lock()
_local_retry_at = 0.0  # non-Redis brokers: this process's scheduled retry drain (epoch seconds)


def _drain_task():
    from saleor_support_plugin.tasks import inbox_drain_task

    return inbox_drain_task


def _redis():
    """A pooled client for the broker's Redis, or None when the broker is not Redis (or tasks run eagerly)."""
    global _client
    client = _client
    if client is _UNSET:
        with _client_lock:
            if _client is _UNSET:
                _client = _client_for(_drain_task().app.conf)
            client = _client
    return client


def _client_for(conf):
    url = conf.broker_url or ""
    if conf.task_always_eager or ";" in url or url.split("://", 1)[0] not in ("redis", "rediss"):
        return None
    import redis

    # redis-py keeps a connection pool per client (thread-safe, reset after fork): no connect per kick.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


def reset_client() -> None:
    """Forget the client (tests that change the broker)."""
    global _client, _local_retry_at
    with _client_lock:
        _client = _UNSET
        _local_retry_at = 0.0
        _thread.conn = None


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
    Never raises: a broker that cannot be reached leaves the rows to the sweeper.
    """
    client = _redis()
    if client is None or force:
        return _publish()
    from redis.exceptions import RedisError

    try:
        if not _set_pending(client):
            return False  # a drain is pending and will DEL, then SELECT, after now (module docstring)
    except (RedisError, OSError) as exc:
        # We cannot tell whether our SET happened: publish (a spare drain is harmless, a missing one is not).
        logger.warning("inbox drain kick: Redis failed (%s); publishing anyway", exc)
        with contextlib.suppress(RedisError, OSError):
            client.set(DRAIN_PENDING_KEY, b"1", ex=DRAIN_PENDING_TTL_SECONDS)
        return _publish()
    if _publish():
        return True
    with contextlib.suppress(RedisError, OSError):  # else it expires by itself
        client.delete(DRAIN_PENDING_KEY)  # so that the next new row tries to publish again
    return False


class _ThreadConnection(threading.local):
    conn = None
    pid = 0
    command = b""  # the SET, packed once


_thread = _ThreadConnection()


def _set_pending(client) -> bool:
    """``SET DRAIN_PENDING_KEY 1 NX EX 30`` → True if it was set. Runs on every new row, so on a connection of
    this thread's own (checking one out of redis-py's pool per command cost 3× the command itself)."""
    local = _thread
    pid = os.getpid()
    conn = local.conn
    if conn is None or local.pid != pid:  # first use in this thread, or a forked child
        conn = local.conn = client.connection_pool.make_connection()
        local.pid = pid
        local.command = conn.pack_command("SET", DRAIN_PENDING_KEY, b"1", "NX", "EX", DRAIN_PENDING_TTL_SECONDS)
    try:
        conn.send_packed_command(local.command, check_health=False)
        return conn.read_response() is not None
    except BaseException:
        local.conn = None
        conn.disconnect()
        raise


def inbox_drain_pending_clear() -> None:
    """First step of a drain: from now on a new row's kick publishes another drain (module docstring)."""
    client = _redis()
    if client is None:
        return
    from redis.exceptions import RedisError

    try:
        client.delete(DRAIN_PENDING_KEY)
    except RedisError as exc:
        # Kicks stay suppressed until the key expires; then they, or the sweeper, publish again.
        logger.warning("inbox drain: could not clear the pending flag (%s)", exc)


def inbox_drain_retry_kick(at: datetime) -> bool:
    """Schedule one drain for ``at`` (when a retry becomes due) unless one already runs by then."""
    global _local_retry_at
    when = at.timestamp()
    delay = max(0.0, when - timezone.now().timestamp())
    client = _redis()
    if client is None:
        if time.time() < _local_retry_at <= when + 1:
            return False
        _local_retry_at = when
    else:
        from redis.exceptions import RedisError

        try:
            scheduled = client.get(DRAIN_RETRY_KEY)
            if scheduled is not None and float(scheduled) <= when + 1:
                return False
            # Lives until that drain runs; a race between two drains here costs one extra drain, no more.
            client.set(DRAIN_RETRY_KEY, repr(when), px=math.ceil(delay * 1000) + 1000)
        except (RedisError, ValueError) as exc:
            logger.warning("inbox drain: retry bookkeeping failed (%s); scheduling anyway", exc)
    return _publish(countdown=delay)
