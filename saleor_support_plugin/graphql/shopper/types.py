"""What a shopper sees of a case: the conversation, never notes, assignees, rules or the timeline."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import Parent, relay

from saleor_support_plugin import models as m
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.graphql.types.common import Attachment
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum, CaseStatusEnum, MessageDirectionEnum


@strawberry_django.type(m.Message, name="CaseMessage", description="A message in the conversation.")
class ShopperMessageType:
    direction: MessageDirectionEnum = strawberry_django.field(  # type: ignore[valid-type]
        description="INBOUND: written by you; OUTBOUND: from the shop."
    )
    body: str
    created_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.Message]) -> strawberry.ID:
        return strawberry.ID(global_id("Message", root.pk))

    @strawberry_django.field(only=["attachments"])
    def attachments(self, root: Parent[m.Message]) -> list[Attachment]:
        return Attachment.from_json(root.attachments or [])


@strawberry_django.type(m.Case, name="Case", description="One of your support cases.")
class ShopperCaseType:
    number: int
    subject: str
    status: CaseStatusEnum  # type: ignore[valid-type]
    reason: CaseReasonEnum  # type: ignore[valid-type]
    order_number: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    messages: list[ShopperMessageType]

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.Case]) -> strawberry.ID:
        return strawberry.ID(global_id("Case", root.pk))

    @strawberry_django.field(only=["order_saleor_id"], description="Saleor order id, if the case is about an order.")
    def order_id(self, root: Parent[m.Case]) -> strawberry.ID | None:
        return strawberry.ID(root.order_saleor_id) if root.order_saleor_id else None


@strawberry.type(name="CaseConnection", description="A page of your cases, newest first.")
class ShopperCaseConnection(relay.Connection[ShopperCaseType]):
    count: strawberry.Private[object] = None

    @strawberry.field(
        description="How many cases match (all pages). With `max`, counting stops there: a result equal to "
        "`max` means `max` or more, which stays fast however many cases match."
    )
    def total_count(self, max: int | None = None) -> int:  # noqa: A002
        if not callable(self.count):
            return 0
        return self.count(max if max is None or max > 0 else 1)
