"""Staff: order context. The snapshot is read with the case; this refreshes it from Saleor on demand."""

from __future__ import annotations

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import MANAGE_ORDERS, Info
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.graphql.types.orders import OrderContext
from saleor_support_plugin.services.orders import order_snapshot_refresh


@strawberry.type(name="OrderRefresh")
class OrderRefreshPayload:
    order: OrderContext | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=staff_requires(MANAGE_ORDERS),
        description="Fetch the order from Saleor now and update our snapshot (and case rules) from it.",
    )
    def order_refresh(self, info: Info, id: strawberry.ID) -> OrderRefreshPayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            snapshot = order_snapshot_refresh(installation=staff.installation, order_id=str(id))
        except SupportError as exc:
            return OrderRefreshPayload(errors=error_list(exc, rename={"orderId": "id"}))
        return OrderRefreshPayload(order=OrderContext.from_snapshot(snapshot))
