"""Shopper: my cases, one of them, open a case, write on a case. Someone else's case is NOT_FOUND."""

from __future__ import annotations

import strawberry
from strawberry_django.optimizer import optimize

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import Info, Shopper
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list, graphql_error
from saleor_support_plugin.graphql.ids import global_id_decode
from saleor_support_plugin.graphql.pagination import connection, page_size
from saleor_support_plugin.graphql.permissions import shopper_required
from saleor_support_plugin.graphql.shopper.types import ShopperCaseConnection, ShopperCaseType, ShopperMessageType
from saleor_support_plugin.graphql.throttle import shopper_create_throttle, shopper_message_throttle
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum
from saleor_support_plugin.models import Case, CaseReason, MessageChannel
from saleor_support_plugin.selectors.cases import case_get_for_shopper, case_list_for_shopper
from saleor_support_plugin.services.cases import case_message_receive
from saleor_support_plugin.services.storefront import case_open_from_storefront


def shopper() -> list:
    """A fresh extension list per field (a PermissionExtension keeps per-field state)."""
    return shopper_required()


def access_case_for_shopper(shopper: Shopper, case_id: str, *, field: str = "id") -> Case:
    try:
        return case_get_for_shopper(scope=shopper.scope, case_id=global_id_decode(case_id, type_name="Case"))
    except SupportError as exc:
        exc.field = field
        raise


@strawberry.type
class Query:
    @strawberry.field(extensions=shopper(), description="Your cases (a guest sees the cases of the proven order).")
    def my_cases(self, info: Info, first: int | None = 20, after: str | None = None) -> ShopperCaseConnection:
        shopper = info.context.get_shopper()
        try:
            page = case_list_for_shopper(
                scope=shopper.scope, first=page_size(first), after=after, prepare=lambda qs: optimize(qs, info)
            )
        except SupportError as exc:
            raise graphql_error(exc) from exc
        return connection(ShopperCaseConnection, page)

    @strawberry.field(extensions=shopper(), description="One of your cases; null if it is not yours or does not exist.")
    def case(self, info: Info, id: strawberry.ID) -> ShopperCaseType | None:  # noqa: A002
        shopper = info.context.get_shopper()
        try:
            return access_case_for_shopper(shopper, id)
        except SupportError:
            return None


@strawberry.input(name="CaseOpenInput")
class CaseOpenInput:
    subject: str
    message: str
    order_id: strawberry.ID | None = strawberry.field(default=None, description="Saleor id of one of your orders.")
    reason: CaseReasonEnum | None = None  # type: ignore[valid-type]


@strawberry.type(name="CaseOpen")
class CaseOpenPayload:
    case: ShopperCaseType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="CaseMessageAdd")
class CaseMessageAddPayload:
    case: ShopperCaseType | None = None
    message: ShopperMessageType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=shopper(), description="Ask the shop for help, optionally about one of your orders."
    )
    def case_open(self, info: Info, input: CaseOpenInput) -> CaseOpenPayload:  # noqa: A002
        shopper = info.context.get_shopper()
        try:
            with shopper_create_throttle(info.context):
                case = case_open_from_storefront(
                    installation=shopper.installation,
                    email=shopper.email,
                    saleor_user_id=shopper.saleor_user_id,
                    guest_order_id=shopper.guest_order_id,
                    subject=input.subject,
                    message=input.message,
                    order_id=str(input.order_id or ""),
                    reason=input.reason.value if input.reason else CaseReason.OTHER,
                )
        except SupportError as exc:
            return CaseOpenPayload(errors=error_list(exc, rename={"body": "message"}))
        return CaseOpenPayload(case=case)

    @strawberry.mutation(extensions=shopper(), description="Write on one of your cases.")
    def case_message_add(self, info: Info, case_id: strawberry.ID, message: str) -> CaseMessageAddPayload:
        shopper = info.context.get_shopper()
        try:
            case = access_case_for_shopper(shopper, case_id, field="caseId")
            with shopper_message_throttle(info.context):
                added = case_message_receive(
                    case=case, body=message, channel=MessageChannel.STOREFRONT, author_email=shopper.email
                )
        except SupportError as exc:
            return CaseMessageAddPayload(errors=error_list(exc, rename={"body": "message"}))
        return CaseMessageAddPayload(case=Case.objects.get(pk=case.pk), message=added)
