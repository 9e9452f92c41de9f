"""Order context shown next to a case: our snapshot of the Saleor order (refreshable with ``orderRefresh``)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from saleor_support_plugin.graphql.types.common import Money
from saleor_support_plugin.models import OrderSnapshot


def _money(snapshot: OrderSnapshot, field: str) -> Money | None:
    return Money.of(getattr(snapshot, field), snapshot.currency)


def _gross(price: object) -> Money | None:
    gross = price.get("gross") if isinstance(price, dict) else None
    if not isinstance(gross, dict) or gross.get("amount") is None:
        return None
    return Money(amount=float(gross["amount"]), currency=str(gross.get("currency") or ""))


@strawberry.type(description="A line of the order as Saleor last told us.")
class OrderLineContext:
    id: strawberry.ID
    product_name: str
    variant_name: str
    sku: str | None
    quantity: int
    quantity_fulfilled: int | None
    unit_price: Money | None
    total_price: Money | None

    @classmethod
    def from_json(cls, line: dict) -> OrderLineContext:
        return cls(
            id=strawberry.ID(str(line.get("id") or "")),
            product_name=str(line.get("productName") or ""),
            variant_name=str(line.get("variantName") or ""),
            sku=line.get("productSku"),
            quantity=int(line.get("quantity") or 0),
            quantity_fulfilled=line.get("quantityFulfilled"),
            unit_price=_gross(line.get("unitPrice")),
            total_price=_gross(line.get("totalPrice")),
        )


@strawberry.type(description="A fulfilment (shipment) of the order.")
class FulfillmentContext:
    id: strawberry.ID
    status: str | None
    tracking_number: str | None
    created: datetime | None

    @classmethod
    def from_json(cls, item: dict) -> FulfillmentContext:
        created = item.get("created")
        return cls(
            id=strawberry.ID(str(item.get("id") or "")),
            status=item.get("status"),
            tracking_number=item.get("trackingNumber") or None,
            created=datetime.fromisoformat(created) if isinstance(created, str) else None,
        )


@strawberry.type(description="Our snapshot of a Saleor order. `id` is Saleor's order id.")
class OrderContext:
    snapshot: strawberry.Private[OrderSnapshot]
    id: strawberry.ID
    number: str
    status: str
    charge_status: str
    authorize_status: str
    payment_status: str
    is_paid: bool | None
    channel: str = strawberry.field(description="Saleor channel slug.")
    user_email: str
    total: Money | None
    total_charged: Money | None
    total_authorized: Money | None
    total_refunded: Money | None
    total_granted_refund: Money | None
    total_refund_pending: Money | None
    total_balance: Money | None
    created_at: datetime | None
    updated_at: datetime | None
    paid_at: datetime | None
    first_fulfilled_at: datetime | None
    has_tracking: bool
    last_tracking_at: datetime | None
    snapshot_updated_at: datetime = strawberry.field(description="When we last updated this snapshot.")

    @strawberry.field
    def shipping_address(self) -> JSON | None:
        return self.snapshot.shipping_address or None

    @strawberry.field
    def lines(self) -> list[OrderLineContext]:
        return [OrderLineContext.from_json(line) for line in self.snapshot.lines if isinstance(line, dict)]

    @strawberry.field
    def fulfillments(self) -> list[FulfillmentContext]:
        return [FulfillmentContext.from_json(f) for f in self.snapshot.fulfillments if isinstance(f, dict)]

    @classmethod
    def from_snapshot(cls, s: OrderSnapshot) -> OrderContext:
        return cls(
            snapshot=s,
            id=strawberry.ID(s.saleor_id),
            number=s.number,
            status=s.status,
            charge_status=s.charge_status,
            authorize_status=s.authorize_status,
            payment_status=s.payment_status,
            is_paid=s.is_paid,
            channel=s.channel_slug,
            user_email=s.user_email,
            total=_money(s, "total_gross"),
            total_charged=_money(s, "total_charged"),
            total_authorized=_money(s, "total_authorized"),
            total_refunded=_money(s, "total_refunded"),
            total_granted_refund=_money(s, "total_granted_refund"),
            total_refund_pending=_money(s, "total_refund_pending"),
            total_balance=_money(s, "total_balance"),
            created_at=s.saleor_created_at,
            updated_at=s.saleor_updated_at,
            paid_at=s.paid_at,
            first_fulfilled_at=s.first_fulfilled_at,
            has_tracking=s.has_tracking,
            last_tracking_at=s.last_tracking_at,
            snapshot_updated_at=s.updated_at,
        )
