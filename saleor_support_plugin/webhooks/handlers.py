"""Translate a parsed payload into one service call; one small function per event family.

``event.issued_at`` (when Saleor rendered the payload) orders states that carry equal timestamps.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from saleor_support_plugin.errors import NoOpError, SupportErrorCode
from saleor_support_plugin.events import SYSTEM
from saleor_support_plugin.models import Installation, WebhookEvent
from saleor_support_plugin.services.case_rules import (
    case_rules_on_checkout,
    case_rules_on_order,
    case_rules_on_transaction,
)
from saleor_support_plugin.services.gdpr import customer_data_erase
from saleor_support_plugin.services.installations import installation_deactivate
from saleor_support_plugin.services.snapshots import (
    checkout_snapshot_apply,
    order_snapshot_apply,
    transaction_snapshot_apply,
)
from saleor_support_plugin.webhooks.payloads import (
    AppDeletedPayload,
    CheckoutEventPayload,
    CustomerDeletedPayload,
    EventPayload,
    OrderEventPayload,
    TransactionEventPayload,
)


def _issued_at(payload: EventPayload, event: WebhookEvent) -> datetime:
    return payload.issued_at or event.issued_at or event.received_at or timezone.now()


def handle_order_event(*, installation: Installation, payload: OrderEventPayload, event: WebhookEvent) -> None:
    result = order_snapshot_apply(
        installation=installation, order=payload.order, issued_at=_issued_at(payload, event), source_event=event
    )
    if not event.is_echo:
        case_rules_on_order(installation=installation, order=result.row)


def handle_checkout_event(*, installation: Installation, payload: CheckoutEventPayload, event: WebhookEvent) -> None:
    result = checkout_snapshot_apply(
        installation=installation, checkout=payload.checkout, issued_at=_issued_at(payload, event), source_event=event
    )
    if not event.is_echo:
        case_rules_on_checkout(installation=installation, checkout=result.row)


def handle_transaction_item_metadata_updated(
    *, installation: Installation, payload: TransactionEventPayload, event: WebhookEvent
) -> None:
    result = transaction_snapshot_apply(
        installation=installation, tx=payload.transaction, issued_at=_issued_at(payload, event), source_event=event
    )
    if not event.is_echo:
        case_rules_on_transaction(installation=installation, tx=result.row)


def handle_app_deleted(*, installation: Installation, payload: AppDeletedPayload, event: WebhookEvent) -> None:
    installation_deactivate(installation=installation, app_id=payload.app.id)


def handle_customer_deleted(
    *, installation: Installation, payload: CustomerDeletedPayload, event: WebhookEvent
) -> None:
    """The customer is gone from Saleor (deleted by staff, or their own account deletion): erase them here too."""
    user = payload.user
    if user is None or not user.email:
        raise NoOpError(SupportErrorCode.INVALID, "The event names no customer e-mail.")
    customer_data_erase(
        installation=installation,
        email=user.email,
        saleor_user_id=user.id or "",
        actor=SYSTEM,
        via=f"saleor:{event.event_type}",
        source_event=event,
    )
