"""Pydantic payload models, one per subscription in ``webhooks/subscriptions``.

The body Saleor posts is the object under ``event`` (docs §4.5): the ``EventMetadata`` fields plus the
event's own fields.
"""

from __future__ import annotations

from datetime import datetime

from saleor_support_plugin.saleor.models import (
    Checkout,
    Fulfillment,
    Order,
    Principal,
    SaleorModel,
    Transaction,
    UserRef,
)


class Recipient(SaleorModel):
    id: str
    name: str | None = None


class EventPayload(SaleorModel):
    issued_at: datetime | None = None
    version: str | None = None
    issuing_principal: Principal | None = None
    recipient: Recipient | None = None


class OrderEventPayload(EventPayload):
    order: Order


class FulfillmentEventPayload(EventPayload):
    fulfillment: Fulfillment | None = None
    notify_customer: bool | None = None
    order: Order


class CheckoutEventPayload(EventPayload):
    checkout: Checkout


class TransactionEventPayload(EventPayload):
    transaction: Transaction


class AppRef(SaleorModel):
    id: str
    name: str | None = None


class AppDeletedPayload(EventPayload):
    app: AppRef


class CustomerDeletedPayload(EventPayload):
    """CUSTOMER_DELETED (staff deleted the customer) and ACCOUNT_DELETED (the shopper deleted their account)."""

    user: UserRef | None = None
