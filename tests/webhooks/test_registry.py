"""The registry is the single source of truth: every entry is complete and backed by a real payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saleor_support_plugin.saleor.auth import jws_verify_detached
from saleor_support_plugin.saleor.documents import SUBSCRIPTIONS_DIR
from saleor_support_plugin.webhooks.registry import REGISTRY, SaleorEvent
from tests.fixtures.recordings import recorded_jwks, recorded_webhooks

OWN_PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
REQUIRED_EVENTS = {
    "ORDER_CREATED", "ORDER_UPDATED", "ORDER_CONFIRMED", "ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_CANCELLED",
    "ORDER_EXPIRED", "ORDER_FULFILLED", "ORDER_REFUNDED", "ORDER_FULLY_REFUNDED", "FULFILLMENT_CREATED",
    "FULFILLMENT_TRACKING_NUMBER_UPDATED", "CHECKOUT_CREATED", "CHECKOUT_UPDATED", "CHECKOUT_FULLY_PAID",
    "TRANSACTION_ITEM_METADATA_UPDATED", "APP_DELETED",
}  # fmt: skip


def _fixtures_for(event: SaleorEvent) -> list[bytes]:
    real = [h.raw_body for h in recorded_webhooks() if h.event == event.value and h.is_ours]
    own = OWN_PAYLOADS / f"{event.value}.json"
    return real + ([own.read_bytes()] if own.exists() else [])


def test_registry_covers_every_event_the_features_need():
    assert {e.value for e in REGISTRY} >= REQUIRED_EVENTS


@pytest.mark.parametrize("event", list(REGISTRY), ids=str)
def test_entry_is_complete_and_its_payloads_parse(event):
    spec = REGISTRY[event]
    assert (SUBSCRIPTIONS_DIR / f"{event.value}.graphql").exists()
    assert callable(spec.handler)
    assert "recipient" in spec.subscription and "issuedAt" in spec.subscription
    fixtures = _fixtures_for(event)
    assert fixtures, f"no recorded or own payload for {event.value}"
    for raw in fixtures:
        payload = spec.payload_model.model_validate_json(raw)
        assert payload.recipient is not None
        assert json.loads(raw)[spec.object_key]["id"]


@pytest.mark.parametrize("hook", recorded_webhooks(), ids=lambda h: h.name)
def test_every_recorded_signature_verifies_against_the_recorded_jwks(hook):
    jws_verify_detached(signature=hook.headers["Saleor-Signature"], raw_body=hook.raw_body, jwks=recorded_jwks())
