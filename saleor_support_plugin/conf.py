"""Typed, frozen view of our settings, read once from ``django.conf.settings``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings


@dataclass(frozen=True, slots=True)
class SupportSettings:
    app_url: str
    app_id: str
    app_name: str
    encryption_keys: tuple[str, ...]
    secret_key: str
    allowed_saleor_urls: tuple[re.Pattern[str], ...]
    saleor_timeout_seconds: float
    webhook_max_body_bytes: int
    poll_overlap_seconds: int
    graphql_max_body_bytes: int = 256 * 1024
    shopper_token_audience: str = ""
    # Normalised "scheme://host[:port]" (lower case); "*" allows any origin.
    shopper_cors_origins: frozenset[str] = frozenset()
    # (count, seconds); count 0 = no limit.
    shopper_rate_limit: tuple[int, int] = (5, 600)
    shopper_ip_rate_limit: tuple[int, int] = (50, 600)
    shopper_message_rate_limit: tuple[int, int] = (30, 600)
    trusted_proxy_count: int = 0
    # The broker's Redis (rate-limit counters live there too); "" when the broker is not Redis.
    redis_url: str = ""


@cache
def support_settings() -> SupportSettings:
    return SupportSettings(
        app_url=settings.APP_URL,
        app_id=settings.SUPPORT_APP_ID,
        app_name=settings.SUPPORT_APP_NAME,
        encryption_keys=tuple(settings.SUPPORT_ENCRYPTION_KEYS),
        secret_key=settings.SECRET_KEY,
        allowed_saleor_urls=tuple(re.compile(p) for p in settings.SUPPORT_ALLOWED_SALEOR_URLS),
        saleor_timeout_seconds=settings.SUPPORT_SALEOR_TIMEOUT_SECONDS,
        webhook_max_body_bytes=settings.SUPPORT_WEBHOOK_MAX_BODY_BYTES,
        poll_overlap_seconds=settings.SUPPORT_POLL_OVERLAP_SECONDS,
        graphql_max_body_bytes=settings.SUPPORT_GRAPHQL_MAX_BODY_BYTES,
        shopper_token_audience=settings.SUPPORT_SHOPPER_TOKEN_AUDIENCE,
        shopper_cors_origins=frozenset(origin_normalize(o) for o in settings.SUPPORT_SHOPPER_CORS_ORIGINS),
        shopper_rate_limit=tuple(settings.SUPPORT_SHOPPER_RATE_LIMIT),
        shopper_ip_rate_limit=tuple(settings.SUPPORT_SHOPPER_IP_RATE_LIMIT),
        shopper_message_rate_limit=tuple(settings.SUPPORT_SHOPPER_MESSAGE_RATE_LIMIT),
        trusted_proxy_count=settings.SUPPORT_TRUSTED_PROXY_COUNT,
        redis_url=_redis_url(settings.CELERY_BROKER_URL),
    )


def _redis_url(broker_url: str) -> str:
    # A list of failover brokers (";") is not one Redis we could count in.
    scheme = broker_url.split("://", 1)[0]
    return broker_url if scheme in ("redis", "rediss") and ";" not in broker_url else ""


def origin_normalize(origin: str) -> str:
    """``https://Shop.example.com/`` → ``https://shop.example.com``: how browsers send ``Origin``."""
    origin = origin.strip().rstrip("/").lower()
    for scheme, port in (("https://", ":443"), ("http://", ":80")):
        if origin.startswith(scheme) and origin.endswith(port):
            return origin[: -len(port)]
    return origin
