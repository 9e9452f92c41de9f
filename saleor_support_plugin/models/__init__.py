from saleor_support_plugin.models.cases import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePriority,
    CaseReason,
    CaseRule,
    CaseSource,
    CaseStatus,
    CaseTag,
    Message,
    MessageChannel,
    MessageDirection,
    Note,
)
from saleor_support_plugin.models.customers import Customer
from saleor_support_plugin.models.email import InboundEmail, InboundMailbox
from saleor_support_plugin.models.installations import Installation
from saleor_support_plugin.models.polling import PollCursor
from saleor_support_plugin.models.rules import NoticeTemplate, OutboundEmail, OutboundEmailStatus, RuleSetting
from saleor_support_plugin.models.sla import BusinessCalendar, SlaPolicy
from saleor_support_plugin.models.snapshots import (
    CheckoutSnapshot,
    OrderSnapshot,
    TransactionEventRecord,
    TransactionSnapshot,
)
from saleor_support_plugin.models.webhook_events import EventSource, EventStatus, WebhookEvent

__all__ = [
    "BusinessCalendar",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CasePriority",
    "CaseReason",
    "CaseRule",
    "CaseSource",
    "CaseStatus",
    "CaseTag",
    "Customer",
    "InboundEmail",
    "InboundMailbox",
    "Message",
    "MessageChannel",
    "MessageDirection",
    "Note",
    "NoticeTemplate",
    "OutboundEmail",
    "OutboundEmailStatus",
    "RuleSetting",
    "SlaPolicy",
    "CheckoutSnapshot",
    "EventSource",
    "EventStatus",
    "Installation",
    "OrderSnapshot",
    "PollCursor",
    "TransactionEventRecord",
    "TransactionSnapshot",
    "WebhookEvent",
]
