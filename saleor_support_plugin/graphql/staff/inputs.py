"""Staff input types and their translation into selector/service arguments."""

from __future__ import annotations

import strawberry

from saleor_support_plugin.graphql.context import StaffUser
from saleor_support_plugin.graphql.types.enums import (
    CasePriorityEnum,
    CaseReasonEnum,
    CaseSortFieldEnum,
    CaseSourceEnum,
    CaseStatusEnum,
    OrderDirection,
)
from saleor_support_plugin.models import CasePriority, CaseReason
from saleor_support_plugin.selectors.cases import CaseFilter, CaseSort, CaseSortField


def _values(items: list | None) -> tuple[str, ...]:
    return tuple(item.value for item in items or ())


@strawberry.input(name="CaseFilterInput", description="Every given criterion must match; a list matches any value.")
class CaseFilterInput:
    status: list[CaseStatusEnum] | None = None  # type: ignore[valid-type]
    reason: list[CaseReasonEnum] | None = None  # type: ignore[valid-type]
    priority: list[CasePriorityEnum] | None = None  # type: ignore[valid-type]
    source: list[CaseSourceEnum] | None = None  # type: ignore[valid-type]
    assignee: str | None = strawberry.field(
        default=None, description='Saleor user id or e-mail of the assignee; "me" is the caller.'
    )
    assigned: bool | None = strawberry.field(default=None, description="true: has an assignee; false: has none.")
    sla_breached: bool | None = strawberry.field(default=None, description="An SLA target was missed.")
    sla_due_soon: bool | None = strawberry.field(
        default=None, description="A running SLA target falls due within the next hour (not yet breached)."
    )
    channel: str | None = strawberry.field(default=None, description="Saleor channel slug of the case's order.")
    customer_email: str | None = None
    order_number: str | None = None
    tags: list[str] | None = None
    search: str | None = strawberry.field(
        default=None, description="Free text: subject, customer e-mail, order number or case number."
    )

    def to_filter(self, staff: StaffUser) -> CaseFilter:
        assignee = (self.assignee or "").strip()
        if assignee.lower() == "me":
            assignee = staff.user_id or staff.email
        return CaseFilter(
            statuses=_values(self.status),
            reasons=_values(self.reason),
            priorities=_values(self.priority),
            sources=_values(self.source),
            assignee=assignee,
            assigned=self.assigned,
            sla_breached=self.sla_breached,
            sla_due_soon=self.sla_due_soon,
            channel=(self.channel or "").strip(),
            customer_email=self.customer_email or "",
            order_number=self.order_number or "",
            tags=tuple(self.tags or ()),
            search=self.search or "",
        )


@strawberry.input(name="CaseSortingInput", description="Default: newest first.")
class CaseSortingInput:
    field: CaseSortFieldEnum = CaseSortFieldEnum.CREATED_AT  # type: ignore[valid-type, attr-defined]
    direction: OrderDirection = OrderDirection.DESC

    def to_sort(self) -> CaseSort:
        return CaseSort(field=CaseSortField(self.field.value), descending=self.direction == OrderDirection.DESC)


@strawberry.input(name="CaseOpenFromOrderInput")
class CaseOpenFromOrderInput:
    order_id: strawberry.ID = strawberry.field(description="Saleor order id.")
    subject: str
    reason: CaseReasonEnum | None = None  # type: ignore[valid-type]
    priority: CasePriorityEnum | None = None  # type: ignore[valid-type]
    note: str | None = strawberry.field(default=None, description="An internal note to start with.")
    assign_to_me: bool = False

    def to_kwargs(self) -> dict:
        return {
            "order_id": str(self.order_id),
            "subject": self.subject,
            "reason": self.reason.value if self.reason else CaseReason.OTHER,
            "priority": self.priority.value if self.priority else CasePriority.NORMAL,
            "note": self.note or "",
            "assign_to_actor": self.assign_to_me,
        }
