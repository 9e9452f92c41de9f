"""GraphQL enums mirroring our ``TextChoices``: GraphQL names are the members' names (``PENDING_CUSTOMER``).

Copies, not the model classes themselves, so decorating them never touches the models. A model field
returns the stored value (``"pending_customer"``) and the enum serialises it by value.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from django.db import models

from saleor_support_plugin.models import CasePriority, CaseReason, CaseRule, CaseSource, CaseStatus
from saleor_support_plugin.models import MessageChannel as MessageChannelChoices
from saleor_support_plugin.models import MessageDirection as MessageDirectionChoices
from saleor_support_plugin.selectors.cases import CaseSortField as CaseSortFieldChoices


def _mirror(choices: type[models.TextChoices] | type[Enum], name: str, description: str) -> type[Enum]:
    members = {member.name: member.value for member in choices}
    return strawberry.enum(Enum(name, members), name=name, description=description)  # type: ignore[misc]


CaseStatusEnum = _mirror(CaseStatus, "CaseStatus", "Where a case stands.")
CasePriorityEnum = _mirror(CasePriority, "CasePriority", "How urgent a case is.")
CaseReasonEnum = _mirror(CaseReason, "CaseReason", "What a case is about.")
CaseSourceEnum = _mirror(CaseSource, "CaseSource", "How a case was opened.")
CaseRuleEnum = _mirror(CaseRule, "CaseRule", "The automatic rule that opened a case.")
MessageChannelEnum = _mirror(MessageChannelChoices, "MessageChannel", "Where a message was written.")
MessageDirectionEnum = _mirror(MessageDirectionChoices, "MessageDirection", "From the customer, or to them.")
CaseSortFieldEnum = _mirror(CaseSortFieldChoices, "CaseSortField", "What the inbox is sorted by.")


@strawberry.enum(name="OrderDirection", description="Sort direction (same name and values as Saleor's).")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"
