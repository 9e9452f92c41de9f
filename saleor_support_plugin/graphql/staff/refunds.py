"""Staff: refunds from a case (carried out in Saleor, once per idempotency key) and the refund limits.

Money operations need MANAGE_ORDERS and HANDLE_PAYMENTS (the permission Saleor itself requires to send a
refund). Resolvers only translate; ``services/refunds.py`` owns the flow.
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import HANDLE_PAYMENTS, MANAGE_ORDERS, Info, StaffUser
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list, graphql_error
from saleor_support_plugin.graphql.ids import global_id_decode
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.graphql.staff.cases import access_case_for_staff
from saleor_support_plugin.graphql.types.returns import RefundLimitType, RefundType
from saleor_support_plugin.models import RefundRecord
from saleor_support_plugin.selectors.refunds import refund_get_for_staff, refund_limit_get, refund_list_for_case
from saleor_support_plugin.services.refund_limits import refund_limit_set
from saleor_support_plugin.services.refunds import RefundLine, refund_issue, refund_resume


def money() -> list:
    """A fresh extension list per field (a PermissionExtension keeps per-field state)."""
    return staff_requires(MANAGE_ORDERS, HANDLE_PAYMENTS)


@strawberry.input(name="RefundLineInput")
class RefundLineInput:
    order_line_id: strawberry.ID
    quantity: int
    reason: str | None = None


@strawberry.input(name="RefundIssueInput")
class RefundIssueInput:
    case_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description="Made by the client once per refund the user means (e.g. a UUID per form); send the same "
        "key again to retry safely: the refund is never granted twice."
    )
    reason: str
    amount: Decimal | None = strawberry.field(default=None, description="Omit to refund the lines' value.")
    lines: list[RefundLineInput] | None = None
    include_shipping: bool = False


@strawberry.input(name="RefundLimitInput", description="Caps in the order's currency; null removes a cap.")
class RefundLimitInput:
    max_per_refund: Decimal | None = None
    max_per_day: Decimal | None = None


@strawberry.type(name="RefundIssue", description="The refund as it stands, and why it stopped if it did.")
class RefundPayload:
    refund: RefundType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="RefundLimitUpdate")
class RefundLimitPayload:
    limit: RefundLimitType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


def _ledger_row(staff: StaffUser, key: str) -> RefundType | None:
    row = RefundRecord.objects.filter(installation=staff.installation, idempotency_key=key.strip()).first()
    return RefundType.of(row) if row else None


@strawberry.type
class Query:
    @strawberry.field(extensions=staff_requires(MANAGE_ORDERS), description="The case's refunds, newest first.")
    def case_refunds(self, info: Info, case_id: strawberry.ID) -> list[RefundType]:
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, case_id, field="caseId")
        except SupportError as exc:
            raise graphql_error(exc) from exc
        return [RefundType.of(row) for row in refund_list_for_case(installation=staff.installation, case_id=case.pk)]

    @strawberry.field(extensions=staff_requires(MANAGE_ORDERS), description="Caps on refunds made through support.")
    def refund_limit(self, info: Info) -> RefundLimitType:
        return RefundLimitType.of(refund_limit_get(installation=info.context.get_staff().installation))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=money(),
        description="Refund money on the case's order: granted in Saleor on a charged transaction, then sent "
        "to the payment app. Safe to retry with the same idempotencyKey.",
    )
    def refund_issue(self, info: Info, input: RefundIssueInput) -> RefundPayload:  # noqa: A002
        staff = info.context.get_staff()
        lines = [
            RefundLine(order_line_id=str(line.order_line_id), quantity=line.quantity, reason=line.reason or "")
            for line in input.lines or []
        ]
        try:
            case = access_case_for_staff(staff, input.case_id, field="caseId")
            row = refund_issue(
                installation=staff.installation,
                case=case,
                idempotency_key=input.idempotency_key,
                actor=staff.actor,
                reason=input.reason,
                amount=input.amount,
                lines=lines,
                include_shipping=input.include_shipping,
            )
        except SupportError as exc:
            return RefundPayload(refund=_ledger_row(staff, input.idempotency_key), errors=error_list(exc))
        return RefundPayload(refund=RefundType.of(row))

    @strawberry.mutation(extensions=money(), description="Carry an unfinished or failed refund on (same guarantees).")
    def refund_resume(self, info: Info, id: strawberry.ID) -> RefundPayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            row = refund_get_for_staff(
                installation=staff.installation, refund_id=global_id_decode(id, type_name="Refund")
            )
        except SupportError as exc:
            exc.field = "id"
            return RefundPayload(errors=error_list(exc))
        try:
            row = refund_resume(installation=staff.installation, record=row, actor=staff.actor)
        except SupportError as exc:
            row.refresh_from_db()
            return RefundPayload(refund=RefundType.of(row), errors=error_list(exc))
        return RefundPayload(refund=RefundType.of(row))

    @strawberry.mutation(extensions=money(), description="Set the caps on refunds made through support.")
    def refund_limit_update(self, info: Info, input: RefundLimitInput) -> RefundLimitPayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            row = refund_limit_set(
                installation=staff.installation, max_per_refund=input.max_per_refund, max_per_day=input.max_per_day
            )
        except SupportError as exc:
            return RefundLimitPayload(errors=error_list(exc))
        return RefundLimitPayload(limit=RefundLimitType.of(row))
