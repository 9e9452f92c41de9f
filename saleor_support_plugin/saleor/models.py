"""Typed shapes of the Saleor objects our fragments select (``saleor/fragments``).

One model per fragment, shared by webhook payloads and poll/backfill responses. Fields are optional
where Saleor may return null or where a smaller selection (e.g. the transaction's ``order``) omits them;
unknown keys are ignored so a Saleor upgrade that adds fields does not break parsing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class SaleorModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class Money(SaleorModel):
    amount: Decimal
    currency: str


class TaxedMoney(SaleorModel):
    gross: Money
    net: Money | None = None


class MetadataItem(SaleorModel):
    key: str
    value: str


class Principal(SaleorModel):
    """``App | User`` union member; ``typename`` tells which."""

    typename: str | None = Field(default=None, alias="__typename")
    id: str | None = None
    name: str | None = None
    email: str | None = None


class UserRef(SaleorModel):
    id: str | None = None
    email: str | None = None


class ChannelRef(SaleorModel):
    id: str
    slug: str
    currency_code: str | None = None


class TransactionEvent(SaleorModel):
    id: str
    type: str | None = None
    message: str | None = None
    psp_reference: str | None = None
    created_at: datetime | None = None
    amount: Money | None = None
    created_by: Principal | None = None


class OrderRef(SaleorModel):
    id: str
    number: str | None = None
    status: str | None = None
    charge_status: str | None = None


class CheckoutRef(SaleorModel):
    id: str
    email: str | None = None
    charge_status: str | None = None


class Transaction(SaleorModel):
    id: str
    token: str | None = None
    name: str | None = None
    message: str | None = None
    psp_reference: str | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    actions: list[str] = []
    authorized_amount: Money | None = None
    authorize_pending_amount: Money | None = None
    charged_amount: Money | None = None
    charge_pending_amount: Money | None = None
    refunded_amount: Money | None = None
    refund_pending_amount: Money | None = None
    canceled_amount: Money | None = None
    created_by: Principal | None = None
    metadata: list[MetadataItem] = []
    events: list[TransactionEvent] = []
    order: OrderRef | None = None
    checkout: CheckoutRef | None = None


class FulfillmentLine(SaleorModel):
    id: str
    quantity: int
    order_line: dict | None = None


class Fulfillment(SaleorModel):
    id: str
    fulfillment_order: int | None = None
    status: str | None = None
    tracking_number: str | None = None
    created: datetime | None = None
    lines: list[FulfillmentLine] | None = None
    warehouse: dict | None = None
    metadata: list[MetadataItem] = []


class OrderLine(SaleorModel):
    id: str
    product_name: str | None = None
    variant_name: str | None = None
    product_sku: str | None = None
    quantity: int
    quantity_fulfilled: int | None = None
    quantity_to_fulfill: int | None = None
    variant: dict | None = None
    unit_price: TaxedMoney | None = None
    total_price: TaxedMoney | None = None


class GrantedRefund(SaleorModel):
    id: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: str | None = None
    reason: str | None = None
    shipping_costs_included: bool | None = None
    amount: Money | None = None
    app: dict | None = None
    user: dict | None = None
    lines: list[dict] | None = None
    transaction: dict | None = None
    transaction_events: list[TransactionEvent] | None = None


class OrderEvent(SaleorModel):
    id: str
    type: str | None = None
    date: datetime | None = None
    message: str | None = None
    amount: float | None = None
    transaction_reference: str | None = None
    user: dict | None = None
    app: dict | None = None


class Order(SaleorModel):
    id: str
    number: str | None = None
    token: str | None = None
    created: datetime | None = None
    updated_at: datetime | None = None
    status: str | None = None
    origin: str | None = None
    language_code_enum: str | None = None
    checkout_id: str | None = None
    user_email: str | None = None
    user: UserRef | None = None
    channel: ChannelRef | None = None
    is_paid: bool | None = None
    payment_status: str | None = None
    charge_status: str | None = None
    authorize_status: str | None = None
    total: TaxedMoney | None = None
    total_charged: Money | None = None
    total_authorized: Money | None = None
    total_refunded: Money | None = None
    total_balance: Money | None = None
    total_granted_refund: Money | None = None
    total_refund_pending: Money | None = None
    shipping_address: dict | None = None
    shipping_method_name: str | None = None
    metadata: list[MetadataItem] = []
    lines: list[OrderLine] = []
    fulfillments: list[Fulfillment] = []
    transactions: list[Transaction] = []
    granted_refunds: list[GrantedRefund] = []
    events: list[OrderEvent] = []


class CheckoutLine(SaleorModel):
    id: str
    quantity: int
    variant: dict | None = None
    total_price: TaxedMoney | None = None


class Checkout(SaleorModel):
    id: str
    token: str | None = None
    created: datetime | None = None
    updated_at: datetime | None = None
    last_change: datetime | None = None
    email: str | None = None
    language_code: str | None = None
    user: UserRef | None = None
    channel: ChannelRef | None = None
    charge_status: str | None = None
    authorize_status: str | None = None
    total_price: TaxedMoney | None = None
    quantity: int | None = None
    metadata: list[MetadataItem] = []
    shipping_address: dict | None = None
    lines: list[CheckoutLine] = []
    transactions: list[Transaction] = []
