"""Fixtures for refund and return flows against FakeSaleor (real HTTP, every document validated against
Saleor's schema, refund/return mutations answered as ../shared/saleor/scenarios.json shows)."""

from __future__ import annotations

import pytest

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.models import Installation
from tests.conftest import make_installation
from tests.fixtures import signing
from tests.refunds.shop import APP_ID, TOKEN


@pytest.fixture
def saleor(fake_saleor):
    fake_saleor.add_app(TOKEN, APP_ID)
    yield fake_saleor
    assert fake_saleor.invalid_documents == []
    assert fake_saleor.unhandled_operations == []


@pytest.fixture
def installation(db, saleor) -> Installation:
    return make_installation(api_url=saleor.api_url, token=TOKEN, app_id=APP_ID, jwks=signing.test_jwks())


@pytest.fixture
def other_installation(db) -> Installation:
    return make_installation(api_url="https://other-shop.example.com/graphql/", app_id="QXBwOjk=", token="other")


@pytest.fixture
def short_timeout(settings):
    """The client gives up after 0.5 s, so ``delay_after_next`` can make Saleor act without us hearing back."""
    support_settings.cache_clear()
    settings.SUPPORT_SALEOR_TIMEOUT_SECONDS = 0.5
    yield
    support_settings.cache_clear()
