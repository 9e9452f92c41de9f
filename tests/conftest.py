from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest
from django.utils import timezone

from saleor_support_plugin.crypto import token_encrypt
from saleor_support_plugin.models import Installation
from tests.fixtures.recordings import RECORDED_API_URL, RECORDED_APP_ID, recorded_jwks
from tests.fixtures.signing import saleor_headers, sign_detached, test_jwks

pytest_plugins = ["tests.fixtures.saleor_double"]

SHARED_SALEOR = Path(__file__).resolve().parent.parent.parent / "shared" / "saleor"


def schema_path() -> Path | None:
    path = Path(os.environ.get("SALEOR_SCHEMA_PATH") or SHARED_SALEOR / "schema.graphql")
    return path if path.exists() else None


@pytest.fixture(scope="session")
def saleor_schema():
    """Saleor 3.24's schema, read from ../shared/saleor (never committed here)."""
    from graphql import build_schema

    path = schema_path()
    if path is None:
        pytest.skip("Saleor schema not found: set SALEOR_SCHEMA_PATH or provide ../shared/saleor/schema.graphql")
    return build_schema(path.read_text())


def make_installation(
    *, api_url: str = RECORDED_API_URL, app_id: str = RECORDED_APP_ID, jwks: dict | None = None, **kw
) -> Installation:
    return Installation.objects.create(
        saleor_api_url=api_url,
        app_id=app_id,
        domain=api_url.split("/")[2],
        token_encrypted=token_encrypt(kw.pop("token", "recorded-app-token")),
        jwks=jwks if jwks is not None else recorded_jwks(),
        jwks_fetched_at=timezone.now(),
        installed_at=timezone.now(),
        **kw,
    )


@pytest.fixture
def recorded_installation(db) -> Installation:
    """The lab's support app (App:1) at the lab's Saleor URL, trusting the lab's real JWKS."""
    return make_installation()


@pytest.fixture
def test_installation(db) -> Installation:
    """An installation whose JWKS is our test key, for payloads we sign ourselves."""
    return make_installation(api_url="https://shop.example.com/graphql/", app_id="QXBwOjc=", jwks=test_jwks())


@pytest.fixture
def post_signed(client):
    """POST a body signed with the test key to the webhook endpoint for ``event``."""

    def post(event: str, body: dict | bytes, *, api_url: str = "https://shop.example.com/graphql/", **headers):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        path = "/api/webhooks/" + event.lower().replace("_", "-")
        meta = saleor_headers(event, api_url=api_url, signature=sign_detached(raw))
        meta.update(headers)
        return client.post(path, data=raw, content_type="application/json", **meta)

    return post


@pytest.fixture(autouse=True)
def _rate_limit_counters_reset():
    """Rate-limit counters outlive a test (the broker's Redis, this process's cache) and a new test database
    reuses installation ids: every test starts with none counted."""
    from django.core.cache import cache
    from redis.exceptions import RedisError

    from saleor_support_plugin import ratelimit

    ratelimit.reset_client()
    cache.clear()
    client = ratelimit.redis_client()
    if client is not None:
        with contextlib.suppress(RedisError, OSError):
            keys = list(client.scan_iter(match=ratelimit.KEY_PREFIX + "*", count=1000))
            if keys:
                client.delete(*keys)
    yield
    ratelimit.reset_client()
