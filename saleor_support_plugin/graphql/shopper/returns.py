"""Shopper: ask to return items or for a refund on one of your orders; see your return requests.

Nothing here moves money: a refund request is a case for staff, and a return request is checked against
the shop's policy and waits for staff (unless small enough to be approved automatically). A guest may only
act on the order they proved; anyone else's order is NOT_FOUND.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from saleor_support_plugin.errors import PermanentError, SupportError, SupportErrorCode
from saleor_support_plugin.graphql.context import Info, Shopper
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.graphql.permissions import shopper_required
from saleor_support_plugin.graphql.shopper.types import ShopperCaseType
from saleor_support_plugin.graphql.throttle import shopper_create_throttle
from saleor_support_plugin.graphql.types.common import Money
from saleor_support_plugin.graphql.types.returns import ReturnResolutionEnum, ReturnStatusEnum
from saleor_support_plugin.models import Case, ReturnRequest
from saleor_support_plugin.selectors.refunds import return_request_list_for_shopper
from saleor_support_plugin.services.refund_requests import refund_request
from saleor_support_plugin.services.refunds import RefundLine
from saleor_support_plugin.services.returns import ReturnLineInput, return_request_create


def shopper() -> list:
    return shopper_required()


@strawberry.type(name="ReturnLine", description="Items of one order line you are sending back.")
class ShopperReturnLineType:
    order_line_id: strawberry.ID
    product_name: str
    variant_name: str
    quantity: int


@strawberry.type(name="ReturnRequest", description="Your request to send items back.")
class ShopperReturnRequestType:
    id: strawberry.ID
    order_id: strawberry.ID
    order_number: str
    status: ReturnStatusEnum  # type: ignore[valid-type]
    resolution: ReturnResolutionEnum  # type: ignore[valid-type]
    reason: str
    value: Money
    lines: list[ShopperReturnLineType]
    created_at: datetime

    @classmethod
    def of(cls, row: ReturnRequest) -> ShopperReturnRequestType:
        return cls(
            id=strawberry.ID(global_id("ReturnRequest", row.pk)),
            order_id=strawberry.ID(row.order_saleor_id),
            order_number=row.order_number,
            status=row.status,
            resolution=row.resolution,
            reason=row.reason,
            value=Money(amount=float(row.value), currency=row.currency),
            lines=[
                ShopperReturnLineType(
                    order_line_id=strawberry.ID(line.order_line_id),
                    product_name=line.product_name,
                    variant_name=line.variant_name,
                    quantity=line.quantity,
                )
                for line in row.lines.all()
            ],
            created_at=row.created_at,
        )


@strawberry.input(name="ReturnLineInput")
class ReturnLineInputType:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.input(name="ReturnRequestCreateInput")
class ReturnRequestCreateInput:
    order_id: strawberry.ID
    lines: list[ReturnLineInputType]
    reason: str
    comment: str | None = None
    resolution: ReturnResolutionEnum = strawberry.field(  # type: ignore[valid-type]
        default=ReturnResolutionEnum.REFUND, description="REFUND or EXCHANGE (if the shop offers exchanges)."
    )


@strawberry.input(name="RefundRequestLineInput")
class RefundRequestLineInput:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.input(name="RefundRequestInput")
class RefundRequestInput:
    order_id: strawberry.ID
    reason: str
    comment: str | None = None
    lines: list[RefundRequestLineInput] | None = None
    amount: Decimal | None = None


@strawberry.type(name="ReturnRequestCreate")
class ReturnRequestCreatePayload:
    return_request: ShopperReturnRequestType | None = None
    case: ShopperCaseType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="RefundRequest")
class RefundRequestPayload:
    case: ShopperCaseType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


def _guest_guard(shopper: Shopper, order_id: str) -> None:
    if shopper.guest_order_id and order_id != shopper.guest_order_id:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Order not found.", field="orderId")


@strawberry.type
class Query:
    @strawberry.field(extensions=shopper(), description="Your return requests (a guest: those of the proven order).")
    def my_return_requests(self, info: Info, order_id: strawberry.ID | None = None) -> list[ShopperReturnRequestType]:
        shopper = info.context.get_shopper()
        rows = return_request_list_for_shopper(
            installation=shopper.installation,
            email=shopper.email,
            guest_order_id=shopper.guest_order_id,
            order_id=str(order_id or ""),
        )
        return [ShopperReturnRequestType.of(row) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=shopper(), description="Ask to return items of your order (checked against the shop's policy)."
    )
    def return_request_create(self, info: Info, input: ReturnRequestCreateInput) -> ReturnRequestCreatePayload:  # noqa: A002
        shopper = info.context.get_shopper()
        try:
            _guest_guard(shopper, str(input.order_id))
            with shopper_create_throttle(info.context):
                row = return_request_create(
                    installation=shopper.installation,
                    order_id=str(input.order_id),
                    customer_email=shopper.email,
                    saleor_user_id=shopper.saleor_user_id,
                    lines=[
                        ReturnLineInput(order_line_id=str(line.order_line_id), quantity=line.quantity)
                        for line in input.lines
                    ],
                    reason=input.reason,
                    comment=input.comment or "",
                    resolution=input.resolution.value,
                )
        except SupportError as exc:
            return ReturnRequestCreatePayload(errors=error_list(exc))
        case = Case.objects.get(pk=row.case_id) if row.case_id else None
        return ReturnRequestCreatePayload(return_request=ShopperReturnRequestType.of(row), case=case)

    @strawberry.mutation(extensions=shopper(), description="Ask the shop for a refund on your order (staff decide).")
    def refund_request(self, info: Info, input: RefundRequestInput) -> RefundRequestPayload:  # noqa: A002
        shopper = info.context.get_shopper()
        try:
            _guest_guard(shopper, str(input.order_id))
            with shopper_create_throttle(info.context):
                case = refund_request(
                    installation=shopper.installation,
                    order_id=str(input.order_id),
                    customer_email=shopper.email,
                    saleor_user_id=shopper.saleor_user_id,
                    reason=input.reason,
                    comment=input.comment or "",
                    lines=[
                        RefundLine(order_line_id=str(line.order_line_id), quantity=line.quantity)
                        for line in input.lines or []
                    ],
                    amount=input.amount,
                )
        except SupportError as exc:
            return RefundRequestPayload(errors=error_list(exc))
        return RefundRequestPayload(case=Case.objects.get(pk=case.pk))
