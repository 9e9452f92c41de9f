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
    )
