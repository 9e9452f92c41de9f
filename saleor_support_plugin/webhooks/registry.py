"""The single source of truth for the webhooks we subscribe to.

The manifest, URL routing, the intake view, the worker's dispatch and a meta-test all read ``REGISTRY``.
Adding an event means adding a line here plus its ``subscriptions/<EVENT>.graphql``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from saleor_support_plugin.saleor.documents import load_subscription
from saleor_support_plugin.webhooks import handlers
from saleor_support_plugin.webhooks.payloads import (
    AppDeletedPayload,
    CheckoutEventPayload,
    CustomerDeletedPayload,
    EventPayload,
    FulfillmentEventPayload,
    OrderEventPayload,
    TransactionEventPayload,
)


class SaleorEvent(StrEnum):
    ORDER_CREATED = "ORDER_CREATED"
    ORDER_UPDATED = "ORDER_UPDATED"
    ORDER_CONFIRMED = "ORDER_CONFIRMED"
    ORDER_PAID = "ORDER_PAID"
    ORDER_FULLY_PAID = "ORDER_FULLY_PAID"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    ORDER_EXPIRED = "ORDER_EXPIRED"
    ORDER_FULFILLED = "ORDER_FULFILLED"
    ORDER_REFUNDED = "ORDER_REFUNDED"
    ORDER_FULLY_REFUNDED = "ORDER_FULLY_REFUNDED"
    FULFILLMENT_CREATED = "FULFILLMENT_CREATED"
    FULFILLMENT_TRACKING_NUMBER_UPDATED = "FULFILLMENT_TRACKING_NUMBER_UPDATED"
    CHECKOUT_CREATED = "CHECKOUT_CREATED"
    CHECKOUT_UPDATED = "CHECKOUT_UPDATED"
    CHECKOUT_FULLY_PAID = "CHECKOUT_FULLY_PAID"
    TRANSACTION_ITEM_METADATA_UPDATED = "TRANSACTION_ITEM_METADATA_UPDATED"
    APP_DELETED = "APP_DELETED"
    CUSTOMER_DELETED = "CUSTOMER_DELETED"
    ACCOUNT_DELETED = "ACCOUNT_DELETED"


Handler = Callable[..., None]


@dataclass(frozen=True)
class WebhookSpec:
    event: SaleorEvent
    payload_model: type[EventPayload]
    handler: Handler
    # Key of the payload's main object; its id is indexed on the inbox row for look-ups.
    object_key: str
    # Processed even when the installation is inactive (Saleor sends it after deactivation).
    allowed_when_inactive: bool = False

    @property
    def path(self) -> str:
        return self.event.value.lower().replace("_", "-")

    @cached_property
    def subscription(self) -> str:
        return load_subscription(self.event.value)


def _spec(event: SaleorEvent, model: type[EventPayload], handler: Handler, key: str, **kw: bool) -> WebhookSpec:
    return WebhookSpec(event=event, payload_model=model, handler=handler, object_key=key, **kw)


_ORDER_EVENTS = [e for e in SaleorEvent if e.value.startswith("ORDER_")]
_CHECKOUT_EVENTS = [e for e in SaleorEvent if e.value.startswith("CHECKOUT_")]

REGISTRY: dict[SaleorEvent, WebhookSpec] = {
    **{e: _spec(e, OrderEventPayload, handlers.handle_order_event, "order") for e in _ORDER_EVENTS},
    SaleorEvent.FULFILLMENT_CREATED: _spec(
        SaleorEvent.FULFILLMENT_CREATED, FulfillmentEventPayload, handlers.handle_order_event, "order"
    ),
    SaleorEvent.FULFILLMENT_TRACKING_NUMBER_UPDATED: _spec(
        SaleorEvent.FULFILLMENT_TRACKING_NUMBER_UPDATED, FulfillmentEventPayload, handlers.handle_order_event, "order"
    ),
    **{e: _spec(e, CheckoutEventPayload, handlers.handle_checkout_event, "checkout") for e in _CHECKOUT_EVENTS},
    SaleorEvent.TRANSACTION_ITEM_METADATA_UPDATED: _spec(
        SaleorEvent.TRANSACTION_ITEM_METADATA_UPDATED,
        TransactionEventPayload,
        handlers.handle_transaction_item_metadata_updated,
        "transaction",
    ),
    SaleorEvent.APP_DELETED: _spec(
        SaleorEvent.APP_DELETED, AppDeletedPayload, handlers.handle_app_deleted, "app", allowed_when_inactive=True
    ),
    # GDPR: a customer deleted in Saleor (by staff, or by themselves) is erased here too (services/gdpr.py).
    **{
        e: _spec(e, CustomerDeletedPayload, handlers.handle_customer_deleted, "user")
        for e in (SaleorEvent.CUSTOMER_DELETED, SaleorEvent.ACCOUNT_DELETED)
    },
}

_BY_PATH = {spec.path: spec for spec in REGISTRY.values()}


def spec_for_path(path: str) -> WebhookSpec | None:
    return _BY_PATH.get(path)


def spec_for_event(name: str) -> WebhookSpec | None:
    try:
        return REGISTRY[SaleorEvent(name.upper())]
    except ValueError:
        return None
