"""Staff-facing case types. ``Case`` is what the inbox lists; ``CaseDetail`` adds what one case screen shows.

``Case`` and ``CaseDetail`` are plain strawberry types over the ``Case`` model instance, not
strawberry-django ones: the inbox renders ~1,100 fields per page of 50, and a plain attribute field takes
strawberry's fast path (a getattr) instead of strawberry-django's field machinery (in one process, the
inbox request's CPU went down ~10 %). So nothing fetches for them automatically: whoever returns them
selects ``customer`` and prefetches ``tags`` (the inbox page, ``customer_cases_list``) or accepts one query
per relation (a single case from a mutation). ``CaseDetail``'s lists read ``root.messages.all()`` & co.,
which use a prefetch when the query made one (``case`` does). Per-case lookups (order snapshot, customer
history) live on ``CaseDetail`` only, so the inbox's query count does not grow with its page size.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import Parent, relay
from strawberry.scalars import JSON

from saleor_support_plugin import models as m
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.graphql.types.ai import MessageTriageType, ReplyDraftType
from saleor_support_plugin.graphql.types.common import Attachment, Money
from saleor_support_plugin.graphql.types.enums import (
    CasePriorityEnum,
    CaseReasonEnum,
    CaseRuleEnum,
    CaseSourceEnum,
    CaseStatusEnum,
    MessageChannelEnum,
    MessageDirectionEnum,
)
from saleor_support_plugin.graphql.types.orders import OrderContext
from saleor_support_plugin.selectors.ai import case_draft_latest, case_triage_latest
from saleor_support_plugin.selectors.cases import customer_cases_list, customer_orders_list
from saleor_support_plugin.selectors.orders import order_snapshot_get

SLA_COLUMNS = [
    "status",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "sla_paused_at",
    "sla_first_response_breached",
    "sla_resolution_breached",
]


@strawberry_django.type(m.Customer, name="Customer", description="A shopper, identified by e-mail per Saleor.")
class CustomerType:
    email: str
    name: str
    saleor_user_id: str = strawberry_django.field(description="Saleor user id, once known (empty for guests).")
    language_code: str

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.Customer]) -> strawberry.ID:
        return strawberry.ID(global_id("Customer", root.pk))


@strawberry.type(description="The Saleor staff user a case is assigned to.")
class Assignee:
    user_id: str
    email: str


@strawberry.type(description="The SLA clocks of a case (due times in UTC).")
class CaseSla:
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    paused_at: datetime | None
    first_response_breached: bool
    resolution_breached: bool
    due_at: datetime | None = strawberry.field(description="The next running due time (what SLA_DUE sorts by).")


@strawberry.type(name="Case", description="A support case as the inbox lists it.")
class CaseType:
    number: int
    subject: str
    status: CaseStatusEnum  # type: ignore[valid-type]
    reason: CaseReasonEnum  # type: ignore[valid-type]
    priority: CasePriorityEnum  # type: ignore[valid-type]
    source: CaseSourceEnum  # type: ignore[valid-type]
    customer: CustomerType | None
    order_number: str
    language_code: str
    currency: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None

    @strawberry.field
    def id(self, root: Parent[m.Case]) -> strawberry.ID:
        return strawberry.ID(global_id("Case", root.pk))

    @strawberry.field(description="The automatic rule that opened the case, if any.")
    def rule(self, root: Parent[m.Case]) -> CaseRuleEnum | None:  # type: ignore[valid-type]
        return root.rule or None

    @strawberry.field(description="Saleor order id, if the case is about an order.")
    def order_id(self, root: Parent[m.Case]) -> strawberry.ID | None:
        return strawberry.ID(root.order_saleor_id) if root.order_saleor_id else None

    @strawberry.field
    def checkout_id(self, root: Parent[m.Case]) -> strawberry.ID | None:
        return strawberry.ID(root.checkout_saleor_id) if root.checkout_saleor_id else None

    @strawberry.field
    def assignee(self, root: Parent[m.Case]) -> Assignee | None:
        if not (root.assignee_user_id or root.assignee_email):
            return None
        return Assignee(user_id=root.assignee_user_id, email=root.assignee_email)

    @strawberry.field
    def value_at_risk(self, root: Parent[m.Case]) -> Money | None:
        return Money.of(root.value_at_risk, root.currency)

    @strawberry.field
    def recovered_amount(self, root: Parent[m.Case]) -> Money | None:
        return Money.of(root.recovered_amount, root.currency)

    @strawberry.field(description="The case this one was merged into.")
    def merged_into_id(self, root: Parent[m.Case]) -> strawberry.ID | None:
        return strawberry.ID(global_id("Case", root.merged_into_id)) if root.merged_into_id else None

    @strawberry.field
    def tags(self, root: Parent[m.Case]) -> list[str]:
        return sorted(tag.name for tag in root.tags.all())

    @strawberry.field
    def sla(self, root: Parent[m.Case]) -> CaseSla:
        due = root.first_response_due_at if root.first_responded_at is None else root.resolution_due_at
        return CaseSla(
            first_response_due_at=root.first_response_due_at,
            resolution_due_at=root.resolution_due_at,
            first_responded_at=root.first_responded_at,
            paused_at=root.sla_paused_at,
            first_response_breached=root.sla_first_response_breached,
            resolution_breached=root.sla_resolution_breached,
            due_at=due,
        )


@strawberry_django.type(m.Message, name="Message", description="A message to or from the customer.")
class MessageType:
    channel: MessageChannelEnum  # type: ignore[valid-type]
    direction: MessageDirectionEnum  # type: ignore[valid-type]
    author_email: str
    author_name: str
    subject: str
    body: str
    created_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.Message]) -> strawberry.ID:
        return strawberry.ID(global_id("Message", root.pk))

    @strawberry_django.field(only=["attachments"])
    def attachments(self, root: Parent[m.Message]) -> list[Attachment]:
        return Attachment.from_json(root.attachments or [])


@strawberry_django.type(m.Note, name="Note", description="An internal note; never shown to the customer.")
class NoteType:
    author_email: str
    body: str
    created_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.Note]) -> strawberry.ID:
        return strawberry.ID(global_id("Note", root.pk))


@strawberry.type(description="Who did something: a staff user, the customer, an automatic rule or the system.")
class Actor:
    type: str
    email: str
    user_id: str


@strawberry_django.type(m.CaseEvent, name="CaseEvent", description="One entry of the case timeline.")
class CaseEventType:
    type: str = strawberry_django.field(description="What happened, e.g. case_opened, reply_sent, status_changed.")
    parameters: JSON
    created_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.CaseEvent]) -> strawberry.ID:
        return strawberry.ID(global_id("CaseEvent", root.pk))

    @strawberry_django.field(only=["actor_type", "actor_email", "actor_user_id"])
    def actor(self, root: Parent[m.CaseEvent]) -> Actor:
        return Actor(type=root.actor_type, email=root.actor_email, user_id=root.actor_user_id)


@strawberry.type(description="What else we know about the case's customer.")
class CustomerHistory:
    cases: list[CaseType] = strawberry.field(description="Their other cases, newest first (at most 20).")
    orders: list[OrderContext] = strawberry.field(description="Their orders we hold, newest first (at most 20).")


@strawberry.type(name="CaseDetail", description="One case with its conversation and context.")
class CaseDetailType(CaseType):
    @strawberry.field
    def messages(self, root: Parent[m.Case]) -> list[MessageType]:
        return list(root.messages.all())

    @strawberry.field
    def notes(self, root: Parent[m.Case]) -> list[NoteType]:
        return list(root.notes.all())

    @strawberry.field
    def timeline(self, root: Parent[m.Case]) -> list[CaseEventType]:
        return list(root.events.all())

    @strawberry.field(description="The order, from our snapshot.")
    def order(self, root: Parent[m.Case]) -> OrderContext | None:
        snapshot = order_snapshot_get(installation_id=root.installation_id, order_id=root.order_saleor_id)
        return OrderContext.from_snapshot(snapshot) if snapshot else None

    @strawberry.field(description="Triage of the last inbound message, once done.")
    def triage(self, root: Parent[m.Case]) -> MessageTriageType | None:
        row = case_triage_latest(case=root)
        return MessageTriageType.of(row) if row else None

    @strawberry.field(description="The reply drafted for the last inbound message.")
    def draft(self, root: Parent[m.Case]) -> ReplyDraftType | None:
        row = case_draft_latest(case=root)
        return ReplyDraftType.of(row) if row else None

    @strawberry.field
    def customer_history(self, root: Parent[m.Case]) -> CustomerHistory:
        return CustomerHistory(
            cases=customer_cases_list(case=root),
            orders=[OrderContext.from_snapshot(o) for o in customer_orders_list(case=root)],
        )


@strawberry.type(name="CaseConnection", description="A page of cases (Relay cursor connection).")
class CaseConnection(relay.Connection[CaseType]):
    count: strawberry.Private[object] = None

    @strawberry.field(
        description="How many cases match (all pages). With `max`, counting stops there: a result equal to "
        "`max` means `max` or more, which stays fast however many cases match."
    )
    def total_count(self, max: int | None = None) -> int:  # noqa: A002
        if not callable(self.count):
            return 0
        return self.count(max if max is None or max > 0 else 1)
