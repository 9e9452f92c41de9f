"""Staff: return requests (approve → Saleor return, receive → refund or exchange, reject) and the policy.

Approving and rejecting need MANAGE_ORDERS; receiving may refund, so it also needs HANDLE_PAYMENTS.
Resolvers only translate; ``services/returns.py`` owns the flow.
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
from saleor_support_plugin.graphql.types.returns import ReturnPolicyType, ReturnRequestType, ReturnStatusEnum
from saleor_support_plugin.models import ReturnRequest
from saleor_support_plugin.selectors.refunds import return_request_get_for_staff, return_request_list_for_staff
from saleor_support_plugin.services import returns as return_services


def manage_orders() -> list:
    return staff_requires(MANAGE_ORDERS)


def money() -> list:
    return staff_requires(MANAGE_ORDERS, HANDLE_PAYMENTS)


@strawberry.input(name="ReturnPolicyInput", description="The whole policy (fields left out take their defaults).")
class ReturnPolicyInput:
    window_days: int = 30
    non_returnable_product_types: list[str] | None = None
    non_returnable_skus: list[str] | None = None
    allowed_reasons: list[str] | None = None
    max_auto_approve_value: Decimal | None = None
    exchanges_allowed: bool = True


@strawberry.type(name="ReturnRequestUpdate", description="The return request as it stands, and why it stopped.")
class ReturnRequestPayload:
    return_request: ReturnRequestType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="ReturnPolicyUpdate")
class ReturnPolicyPayload:
    policy: ReturnPolicyType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


def _access(staff: StaffUser, return_request_id: str) -> ReturnRequest:
    try:
        pk = global_id_decode(return_request_id, type_name="ReturnRequest")
        return return_request_get_for_staff(installation=staff.installation, return_request_id=pk)
    except SupportError as exc:
        exc.field = "id"
        raise


def _act(info: Info, id: str, action, **kw) -> ReturnRequestPayload:  # noqa: A002, ANN001
    staff = info.context.get_staff()
    try:
        row = _access(staff, id)
    except SupportError as exc:
        return ReturnRequestPayload(errors=error_list(exc))
    try:
        row = action(installation=staff.installation, return_request=row, actor=staff.actor, **kw)
    except SupportError as exc:
        return ReturnRequestPayload(return_request=ReturnRequestType.of(_access(staff, id)), errors=error_list(exc))
    return ReturnRequestPayload(return_request=ReturnRequestType.of(_access(staff, id)))


@strawberry.type
class Query:
    @strawberry.field(
        extensions=manage_orders(), description="Return requests, newest first: of one case, or all with a status."
    )
    def return_requests(
        self,
        info: Info,
        case_id: strawberry.ID | None = None,
        status: list[ReturnStatusEnum] | None = None,  # type: ignore[valid-type]
    ) -> list[ReturnRequestType]:
        staff = info.context.get_staff()
        pk = None
        if case_id is not None:
            try:
                pk = access_case_for_staff(staff, case_id, field="caseId").pk
            except SupportError as exc:
                raise graphql_error(exc) from exc
        rows = return_request_list_for_staff(
            installation=staff.installation, case_id=pk, statuses=tuple(s.value for s in status or [])
        )
        return [ReturnRequestType.of(row) for row in rows]

    @strawberry.field(extensions=manage_orders(), description="What shoppers may send back.")
    def return_policy(self, info: Info) -> ReturnPolicyType:
        installation = info.context.get_staff().installation
        return ReturnPolicyType.of(return_services.return_policy_get(installation=installation))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=manage_orders(),
        description="Approve: the items are returned in Saleor (no refund yet; exchanges draft a replace order).",
    )
    def return_request_approve(self, info: Info, id: strawberry.ID) -> ReturnRequestPayload:  # noqa: A002
        return _act(info, id, return_services.return_request_approve)

    @strawberry.mutation(
        extensions=money(), description="The parcel arrived: refund its lines in Saleor, or complete the exchange."
    )
    def return_request_receive(self, info: Info, id: strawberry.ID) -> ReturnRequestPayload:  # noqa: A002
        return _act(info, id, return_services.return_request_receive)

    @strawberry.mutation(extensions=manage_orders(), description="Refuse the return, saying why.")
    def return_request_reject(self, info: Info, id: strawberry.ID, reason: str) -> ReturnRequestPayload:  # noqa: A002
        return _act(info, id, return_services.return_request_reject, why=reason)

    @strawberry.mutation(extensions=manage_orders(), description="Replace the return policy.")
    def return_policy_update(self, info: Info, input: ReturnPolicyInput) -> ReturnPolicyPayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            row = return_services.return_policy_set(
                installation=staff.installation,
                window_days=input.window_days,
                non_returnable_product_types=input.non_returnable_product_types or [],
                non_returnable_skus=input.non_returnable_skus or [],
                allowed_reasons=input.allowed_reasons or [],
                max_auto_approve_value=input.max_auto_approve_value,
                exchanges_allowed=input.exchanges_allowed,
            )
        except SupportError as exc:
            return ReturnPolicyPayload(errors=error_list(exc))
        return ReturnPolicyPayload(policy=ReturnPolicyType.of(row))
