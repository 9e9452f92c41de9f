"""Refund ledger rows, return requests and their settings as staff see them (shoppers: shopper/returns.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from django.db import models

from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.graphql.types.common import Money
from saleor_support_plugin.models import RefundLimit, RefundRecord, ReturnLine, ReturnPolicy, ReturnRequest
from saleor_support_plugin.models import RefundStatus as RefundStatusChoices
from saleor_support_plugin.models import ReturnResolution as ReturnResolutionChoices
from saleor_support_plugin.models import ReturnStatus as ReturnStatusChoices


def _mirror(choices: type[models.TextChoices], name: str, description: str) -> type[Enum]:
    # As graphql/types/enums.py does: a copy, so decorating it never touches the model's choices.
    members = {member.name: member.value for member in choices}
    return strawberry.enum(Enum(name, members), name=name, description=description)  # type: ignore[misc]


RefundStatusEnum = _mirror(RefundStatusChoices, "RefundStatus", "Where a refund stands in Saleor.")
ReturnStatusEnum = _mirror(ReturnStatusChoices, "ReturnStatus", "Where a return request stands.")
ReturnResolutionEnum = _mirror(ReturnResolutionChoices, "ReturnResolution", "What the shopper wants back.")


@strawberry.type(name="RefundLine", description="A line refunded (Saleor prices it at the line's unit price).")
class RefundLineType:
    order_line_id: strawberry.ID
    quantity: int
    reason: str


@strawberry.type(name="Refund", description="A refund asked for from a case, as our ledger and Saleor know it.")
class RefundType:
    id: strawberry.ID
    status: RefundStatusEnum  # type: ignore[valid-type]
    amount: Money
    idempotency_key: str
    order_id: strawberry.ID
    order_number: str
    transaction_id: strawberry.ID | None = strawberry.field(description="Saleor TransactionItem refunded from.")
    granted_refund_id: strawberry.ID | None = strawberry.field(description="Saleor OrderGrantedRefund id.")
    lines: list[RefundLineType]
    include_shipping: bool
    reason: str
    requested_by: str = strawberry.field(description="E-mail of the staff member who asked for it.")
    error_code: str | None = strawberry.field(description="Our code for the last failure, if any.")
    error_message: str | None = strawberry.field(description="What Saleor said, with its own code.")
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, row: RefundRecord) -> RefundType:
        return cls(
            id=strawberry.ID(global_id("Refund", row.pk)),
            status=row.status,
            amount=Money(amount=float(row.amount), currency=row.currency),
            idempotency_key=row.idempotency_key,
            order_id=strawberry.ID(row.order_saleor_id),
            order_number=row.order_number,
            transaction_id=strawberry.ID(row.transaction_saleor_id) if row.transaction_saleor_id else None,
            granted_refund_id=strawberry.ID(row.grant_saleor_id) if row.grant_saleor_id else None,
            lines=[
                RefundLineType(
                    order_line_id=strawberry.ID(str(line.get("order_line_id") or "")),
                    quantity=int(line.get("quantity") or 0),
                    reason=str(line.get("reason") or ""),
                )
                for line in row.lines or []
            ],
            include_shipping=row.include_shipping,
            reason=row.reason,
            requested_by=row.actor_email,
            error_code=row.error_code or None,
            error_message=row.error_message or None,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )


@strawberry.type(name="ReturnLine", description="Items of one order line to be returned.")
class ReturnLineType:
    order_line_id: strawberry.ID
    product_name: str
    variant_name: str
    sku: str
    quantity: int
    unit_price: Money
    replace: bool

    @classmethod
    def of(cls, line: ReturnLine, currency: str) -> ReturnLineType:
        return cls(
            order_line_id=strawberry.ID(line.order_line_id),
            product_name=line.product_name,
            variant_name=line.variant_name,
            sku=line.product_sku,
            quantity=line.quantity,
            unit_price=Money(amount=float(line.unit_price), currency=currency),
            replace=line.replace,
        )


@strawberry.type(name="ReturnRequest", description="A shopper's request to send items back.")
class ReturnRequestType:
    id: strawberry.ID
    case_id: strawberry.ID | None
    order_id: strawberry.ID
    order_number: str
    customer_email: str
    status: ReturnStatusEnum  # type: ignore[valid-type]
    resolution: ReturnResolutionEnum  # type: ignore[valid-type]
    reason: str
    comment: str
    value: Money
    auto_approved: bool
    lines: list[ReturnLineType]
    saleor_return_fulfillment_id: strawberry.ID | None
    saleor_replace_order_id: strawberry.ID | None = strawberry.field(description="Draft order for an exchange.")
    rejection_reason: str
    created_at: datetime
    approved_at: datetime | None
    received_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, row: ReturnRequest) -> ReturnRequestType:
        return cls(
            id=strawberry.ID(global_id("ReturnRequest", row.pk)),
            case_id=strawberry.ID(global_id("Case", row.case_id)) if row.case_id else None,
            order_id=strawberry.ID(row.order_saleor_id),
            order_number=row.order_number,
            customer_email=row.customer_email,
            status=row.status,
            resolution=row.resolution,
            reason=row.reason,
            comment=row.comment,
            value=Money(amount=float(row.value), currency=row.currency),
            auto_approved=row.auto_approved,
            lines=[ReturnLineType.of(line, row.currency) for line in row.lines.all()],
            saleor_return_fulfillment_id=_opt_id(row.saleor_return_fulfillment_id),
            saleor_replace_order_id=_opt_id(row.saleor_replace_order_id),
            rejection_reason=row.rejection_reason,
            created_at=row.created_at,
            approved_at=row.approved_at,
            received_at=row.received_at,
            completed_at=row.completed_at,
        )


def _opt_id(value: str) -> strawberry.ID | None:
    return strawberry.ID(value) if value else None


def _opt_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(name="ReturnPolicy", description="What shoppers may send back.")
class ReturnPolicyType:
    window_days: int = strawberry.field(description="Days after the fulfilment.")
    non_returnable_product_types: list[str] = strawberry.field(description="Saleor product type ids or names.")
    non_returnable_skus: list[str]
    allowed_reasons: list[str] = strawberry.field(description="Empty: any reason.")
    max_auto_approve_value: float | None = strawberry.field(description="Approved without staff up to this value.")
    exchanges_allowed: bool

    @classmethod
    def of(cls, row: ReturnPolicy) -> ReturnPolicyType:
        return cls(
            window_days=row.window_days,
            non_returnable_product_types=list(row.non_returnable_product_types or []),
            non_returnable_skus=list(row.non_returnable_skus or []),
            allowed_reasons=list(row.allowed_reasons or []),
            max_auto_approve_value=_opt_float(row.max_auto_approve_value),
            exchanges_allowed=row.exchanges_allowed,
        )


@strawberry.type(name="RefundLimit", description="Caps on refunds made through support, in the order's currency.")
class RefundLimitType:
    max_per_refund: float | None
    max_per_day: float | None = strawberry.field(description="Over a rolling 24 hours, per currency.")

    @classmethod
    def of(cls, row: RefundLimit) -> RefundLimitType:
        return cls(max_per_refund=_opt_float(row.max_per_refund), max_per_day=_opt_float(row.max_per_day))
