"""Fixed-window rate-limit counters: in the broker's Redis when it is Redis, else in Django's cache.

A bucket (a name and a ``Rate`` of N hits per S seconds) counts hits in windows aligned to the epoch:
window ``floor(now / S)``, key ``support:ratelimit:<sha256(name)>:<window>``, kept until the window ends.
A burst of up to 2 N around a window boundary passes; that is the price of one counter per bucket.

Where the counters live:
- Redis (production: ``CELERY_BROKER_URL=redis://…``): ``INCR`` + ``EXPIRE`` in one round trip for all
  buckets, shared by every web process.
- Otherwise Django's default cache. ``make run`` configures none, so that is LocMemCache: the counters are
  per web process (gunicorn's 2 workers there let up to twice the limit through). Good enough for a
  machine without external services; production uses Redis.

If Redis cannot be reached the hit is allowed (and logged): a limiter outage must not stop shoppers from
asking for help. Bucket names are hashed, so e-mail addresses and ids never appear in Redis keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache

from saleor_support_plugin.conf import support_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "support:ratelimit:"


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: int

    @property
    def enabled(self) -> bool:
        return self.count > 0 and self.seconds > 0


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    rate: Rate


@dataclass(frozen=True, slots=True)
class Hold:
    """The hits counted by ``rate_limit_take``: (key, seconds to keep it) each, for ``rate_limit_release``."""

    keys: tuple[tuple[str, int], ...] = ()


class RateLimited(Exception):  # noqa: N818 (an outcome, like AuthenticationFailed)
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


def time_now() -> float:
    """The limiter's clock (tests replace it instead of sleeping)."""
    return time.time()


def rate_limit_take(*, buckets: Sequence[Bucket]) -> Hold:
    """Count one hit in every enabled bucket, or raise ``RateLimited`` (counting none) if one is over its rate.

    ``RateLimited.retry_after``: whole seconds until every full bucket's window has ended.
    External call: one Redis round trip (two when refused), or Django's cache.
    """
    now = time_now()
    windows: list[tuple[str, int, Bucket, float]] = []  # key, ttl, bucket, window end
    for bucket in buckets:
        if not bucket.rate.enabled:
            continue
        index = int(now // bucket.rate.seconds)
        end = (index + 1) * bucket.rate.seconds
        digest = hashlib.sha256(bucket.name.encode()).hexdigest()[:32]
        windows.append((f"{KEY_PREFIX}{digest}:{index}", math.ceil(end - now) + 1, bucket, end))
    keys = tuple((key, ttl) for key, ttl, _, _ in windows)
    counts = _incr(keys)
    if counts is None:
        return Hold()
    over = [end - now for (_, _, bucket, end), count in zip(windows, counts, strict=True) if count > bucket.rate.count]
    if over:
        _decr(keys)  # a refused hit uses up nothing: whoever is limited gets exactly N per window
        raise RateLimited(retry_after=max(1, math.ceil(max(over))))
    return Hold(keys)


def rate_limit_release(hold: Hold) -> None:
    """Give back the hits of ``hold`` (the operation they were counted for did nothing)."""
    _decr(hold.keys)


# -- backends -----------------------------------------------------------------------------------------

_UNSET = object()
_client: object = _UNSET
_client_lock = threading.Lock()


def redis_client():
    """A pooled client for the broker's Redis, or None when the broker is not Redis."""
    global _client
    if _client is _UNSET:
        with _client_lock:
            if _client is _UNSET:
                url = support_settings().redis_url
                if url:
                    import redis

                    _client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
                else:
                    _client = None
    return _client


def reset_client() -> None:
    """Forget the client (tests that change the broker)."""
    global _client
    with _client_lock:
        _client = _UNSET


def _incr(keys: tuple[tuple[str, int], ...]) -> list[int] | None:
    if not keys:
        return []
    client = redis_client()
    if client is None:
        return [_cache_incr(key, ttl) for key, ttl in keys]
    from redis.exceptions import RedisError

    pipe = client.pipeline(transaction=True)
    for key, ttl in keys:
        pipe.incr(key)
        pipe.expire(key, ttl)
    try:
        return [int(n) for n in pipe.execute()[0::2]]
    except (RedisError, OSError) as exc:
        logger.warning("rate limit: Redis failed (%s); allowing the request", exc)
        return None


def _decr(keys: tuple[tuple[str, int], ...]) -> None:
    if not keys:
        return
    client = redis_client()
    if client is None:
        for key, _ in keys:
            _cache_decr(key)
        return
    from redis.exceptions import RedisError

    pipe = client.pipeline(transaction=True)
    for key, ttl in keys:
        pipe.decr(key)
        pipe.expire(key, ttl)  # a key that expired meanwhile comes back as -1: let it go again
    try:
        pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("rate limit: could not give back a hit (%s)", exc)


def _cache_incr(key: str, ttl: int) -> int:
    cache.add(key, 0, timeout=ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=ttl)
        return 1


def _cache_decr(key: str) -> None:
    with contextlib.suppress(ValueError):  # expired: nothing to give back
        cache.decr(key)
