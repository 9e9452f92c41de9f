from saleor_support_plugin.models.installations import Installation
from saleor_support_plugin.models.polling import PollCursor
from saleor_support_plugin.models.snapshots import (
    CheckoutSnapshot,
    OrderSnapshot,
    TransactionEventRecord,
    TransactionSnapshot,
)
from saleor_support_plugin.models.webhook_events import EventSource, EventStatus, WebhookEvent

__all__ = [
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
