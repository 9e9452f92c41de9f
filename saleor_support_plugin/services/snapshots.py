"""Upsert the local picture of Saleor orders, checkouts and transactions, newest state winning.

Objects whose shopper data was erased (tombstoned, ``gdpr_snapshots``) keep being updated, but their
personal fields are always written in their erased form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from django.db import IntegrityError, transaction

from saleor_support_plugin.models import (
    CheckoutSnapshot,
    Installation,
    OrderSnapshot,
    TransactionEventRecord,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.saleor.models import Checkout, Money, Order, Transaction
from saleor_support_plugin.services.gdpr_snapshots import (
    address_name,
    erasure_needles,
    snapshot_fields_guard,
    transaction_tombstone_inherit,
)

S = TypeVar("S", OrderSnapshot, CheckoutSnapshot, TransactionSnapshot)


@dataclass
class SnapshotResult(Generic[S]):
    """The snapshot row after the upsert, whether this state was newer, and transaction events seen first now."""

    row: S
    changed: bool
    new_events: list[TransactionEventRecord] = field(default_factory=list)


ACTIVE_FULFILLMENT = {"FULFILLED", "WAITING_FOR_APPROVAL", "RETURNED", "REFUNDED", "REFUNDED_AND_RETURNED"}


def _amount(money: Money | None) -> Decimal | None:
    return money.amount if money is not None else None


def _newest(*stamps: datetime | None) -> datetime | None:
    present = [s for s in stamps if s is not None]
    return max(present) if present else None


def transaction_stamp(tx: Transaction) -> datetime | None:
    return _newest(tx.modified_at, tx.created_at, *(e.created_at for e in tx.events))


def order_stamp(order: Order) -> datetime | None:
    """Newest timestamp anywhere in the order.

    ``updatedAt`` alone is not enough: tracking updates and Saleor-written payment failures add rows
    without moving it (POLLING.md §3, §7), so events, fulfilments, grants and transactions count too.
    """
    return _newest(
        order.updated_at,
        order.created,
        *(e.date for e in order.events),
        *(f.created for f in order.fulfillments),
        *(g.updated_at or g.created_at for g in order.granted_refunds),
        *(transaction_stamp(tx) for tx in order.transactions),
    )


def checkout_stamp(checkout: Checkout) -> datetime | None:
    return _newest(
        checkout.last_change,
        checkout.updated_at,
        checkout.created,
        *(transaction_stamp(tx) for tx in checkout.transactions),
    )


def _lock_or_create(model: type[S], *, installation: Installation, saleor_id: str, defaults: dict) -> tuple[S, bool]:
    """Return the row locked for update, creating it if missing. Caller is inside ``transaction.atomic``."""
    qs = model.objects.select_for_update().filter(installation=installation, saleor_id=saleor_id)
    row = qs.first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return model.objects.create(installation=installation, saleor_id=saleor_id, **defaults), True
    except IntegrityError:
        # Another worker inserted it between our SELECT and INSERT; take theirs, locked.
        return qs.get(), False


def _apply(
    model: type[S],
    *,
    installation: Installation,
    saleor_id: str,
    stamp: datetime,
    issued_at: datetime,
    fields: dict,
    source_event: WebhookEvent | None,
    needles: tuple[str, ...] = (),
) -> tuple[S, bool]:
    # A tombstoned object (its shopper's data was erased) keeps getting its facts, never the shopper back.
    # ``needles`` are the shopper's e-mails and name as this payload carries them, for the free-form fields.
    fields = snapshot_fields_guard(
        model, installation=installation, saleor_id=saleor_id, fields=fields, needles=needles
    )
    versioned = {**fields, "version_stamp": stamp, "version_issued_at": issued_at, "source_event": source_event}
    row, created = _lock_or_create(model, installation=installation, saleor_id=saleor_id, defaults=versioned)
    if created:
        return row, True
    if (stamp, issued_at) <= (row.version_stamp, row.version_issued_at):
        return row, False
    for name, value in versioned.items():
        setattr(row, name, value)
    row.save(update_fields=[*versioned.keys(), "updated_at"])
    return row, True


def _metadata(items: list) -> dict[str, str]:
    return {item.key: item.value for item in items}


def transaction_events_record(*, installation: Installation, tx: Transaction) -> list[TransactionEventRecord]:
    """Insert the transaction's events we have not seen yet; events never change in Saleor."""
    rows = [
        TransactionEventRecord(
            installation=installation,
            saleor_id=event.id,
            transaction_saleor_id=tx.id,
            type=event.type or "",
            psp_reference=event.psp_reference or "",
            message=event.message or "",
            amount=_amount(event.amount),
            currency=event.amount.currency if event.amount else "",
            saleor_created_at=event.created_at,
            created_by_app_id=(event.created_by.id or "") if event.created_by else "",
        )
        for event in tx.events
    ]
    if not rows:
        return []
    known = set(
        TransactionEventRecord.objects.filter(
            installation=installation, saleor_id__in=[r.saleor_id for r in rows]
        ).values_list("saleor_id", flat=True)
    )
    fresh = [r for r in rows if r.saleor_id not in known]
    TransactionEventRecord.objects.bulk_create(fresh, ignore_conflicts=True)
    return fresh


def transaction_snapshot_apply(
    *,
    installation: Installation,
    tx: Transaction,
    issued_at: datetime,
    order_id: str = "",
    checkout_id: str = "",
    source_event: WebhookEvent | None = None,
) -> SnapshotResult[TransactionSnapshot]:
    """Upsert one transaction and record its new events. Caller is inside ``transaction.atomic``.

    Writes: TransactionSnapshot (if newer), TransactionEventRecord (new events only), ErasedObject (a
    transaction of a tombstoned order or checkout is tombstoned too).
    """
    fresh = transaction_events_record(installation=installation, tx=tx)
    stamp = transaction_stamp(tx) or issued_at
    fields = {
        "token": tx.token or "",
        "name": tx.name or "",
        "psp_reference": tx.psp_reference or "",
        "order_saleor_id": order_id or (tx.order.id if tx.order else ""),
        "checkout_saleor_id": checkout_id or (tx.checkout.id if tx.checkout else ""),
        "currency": tx.charged_amount.currency if tx.charged_amount else "",
        "authorized_amount": _amount(tx.authorized_amount),
        "charged_amount": _amount(tx.charged_amount),
        "refunded_amount": _amount(tx.refunded_amount),
        "canceled_amount": _amount(tx.canceled_amount),
        "authorize_pending_amount": _amount(tx.authorize_pending_amount),
        "charge_pending_amount": _amount(tx.charge_pending_amount),
        "refund_pending_amount": _amount(tx.refund_pending_amount),
        "actions": list(tx.actions),
        "created_by_app_id": (tx.created_by.id or "") if tx.created_by else "",
        "saleor_created_at": tx.created_at,
        "saleor_modified_at": tx.modified_at,
        "metadata": _metadata(tx.metadata),
    }
    if not fields["order_saleor_id"]:
        fields.pop("order_saleor_id")  # a transaction-only payload must not erase a known link
    if not fields["checkout_saleor_id"]:
        fields.pop("checkout_saleor_id")
    row, changed = _apply(
        TransactionSnapshot,
        installation=installation,
        saleor_id=tx.id,
        stamp=stamp,
        issued_at=issued_at,
        fields=fields,
        source_event=source_event,
    )
    transaction_tombstone_inherit(installation=installation, tx=row)
    return SnapshotResult(row, changed, fresh)


def _order_derived(order: Order) -> dict:
    fully_paid = [e.date for e in order.events if e.type == "ORDER_FULLY_PAID" and e.date]
    active = [f for f in order.fulfillments if (f.status or "") in ACTIVE_FULFILLMENT]
    tracked = [f for f in active if f.tracking_number]
    tracking_events = [e.date for e in order.events if e.type == "TRACKING_UPDATED" and e.date]
    return {
        "paid_at": min(fully_paid) if fully_paid else None,
        "first_fulfilled_at": _oldest(f.created for f in active),
        "has_tracking": bool(tracked),
        "last_tracking_at": _newest(*tracking_events, *(f.created for f in tracked)),
    }


def _oldest(stamps) -> datetime | None:
    present = [s for s in stamps if s is not None]
    return min(present) if present else None


def _dump(items: list) -> list:
    return [item.model_dump(mode="json", by_alias=True) for item in items]


def order_snapshot_apply(
    *, installation: Installation, order: Order, issued_at: datetime, source_event: WebhookEvent | None = None
) -> SnapshotResult[OrderSnapshot]:
    """Upsert the order and its transactions if this state is newer than what we hold.

    Caller is inside ``transaction.atomic``. Writes: OrderSnapshot, TransactionSnapshot,
    TransactionEventRecord. Returns whether the order row changed.
    """
    fresh: list[TransactionEventRecord] = []
    for tx in order.transactions:
        fresh += transaction_snapshot_apply(
            installation=installation, tx=tx, issued_at=issued_at, order_id=order.id, source_event=source_event
        ).new_events
    fields = {
        "number": order.number or "",
        "token": order.token or "",
        "status": order.status or "",
        "origin": order.origin or "",
        "language_code": order.language_code_enum or "",
        "charge_status": order.charge_status or "",
        "authorize_status": order.authorize_status or "",
        "payment_status": order.payment_status or "",
        "is_paid": order.is_paid,
        "channel_slug": order.channel.slug if order.channel else "",
        "currency": order.total.gross.currency if order.total else "",
        "user_email": (order.user_email or "")[:254],
        "saleor_user_id": (order.user.id or "") if order.user else "",
        "checkout_id": order.checkout_id or "",
        "total_gross": order.total.gross.amount if order.total else None,
        "total_charged": _amount(order.total_charged),
        "total_authorized": _amount(order.total_authorized),
        "total_refunded": _amount(order.total_refunded),
        "total_granted_refund": _amount(order.total_granted_refund),
        "total_refund_pending": _amount(order.total_refund_pending),
        "total_balance": _amount(order.total_balance),
        "saleor_created_at": order.created,
        "saleor_updated_at": order.updated_at,
        "shipping_address": order.shipping_address or {},
        "lines": _dump(order.lines),
        "fulfillments": _dump(order.fulfillments),
        "granted_refunds": _dump(order.granted_refunds),
        "events": _dump(order.events),
        "metadata": _metadata(order.metadata),
        **_order_derived(order),
    }
    row, changed = _apply(
        OrderSnapshot,
        installation=installation,
        saleor_id=order.id,
        stamp=order_stamp(order) or issued_at,
        issued_at=issued_at,
        fields=fields,
        source_event=source_event,
        needles=erasure_needles(
            emails=(order.user_email, order.user.email if order.user else None),
            names=(address_name(order.shipping_address),),
        ),
    )
    return SnapshotResult(row, changed, fresh)


def checkout_snapshot_apply(
    *, installation: Installation, checkout: Checkout, issued_at: datetime, source_event: WebhookEvent | None = None
) -> SnapshotResult[CheckoutSnapshot]:
    """Upsert the checkout and its transactions if this state is newer. Caller is inside ``atomic``."""
    fresh: list[TransactionEventRecord] = []
    for tx in checkout.transactions:
        fresh += transaction_snapshot_apply(
            installation=installation, tx=tx, issued_at=issued_at, checkout_id=checkout.id, source_event=source_event
        ).new_events
    fields = {
        "token": checkout.token or "",
        "email": (checkout.email or "")[:254],
        "language_code": checkout.language_code or "",
        "saleor_user_id": (checkout.user.id or "") if checkout.user else "",
        "channel_slug": checkout.channel.slug if checkout.channel else "",
        "currency": checkout.total_price.gross.currency if checkout.total_price else "",
        "charge_status": checkout.charge_status or "",
        "authorize_status": checkout.authorize_status or "",
        "total_gross": checkout.total_price.gross.amount if checkout.total_price else None,
        "quantity": checkout.quantity or 0,
        "saleor_created_at": checkout.created,
        "saleor_updated_at": checkout.last_change or checkout.updated_at,
        "lines": _dump(checkout.lines),
        "shipping_address": checkout.shipping_address or {},
        "metadata": _metadata(checkout.metadata),
    }
    row, changed = _apply(
        CheckoutSnapshot,
        installation=installation,
        saleor_id=checkout.id,
        stamp=checkout_stamp(checkout) or issued_at,
        issued_at=issued_at,
        fields=fields,
        source_event=source_event,
        needles=erasure_needles(
            emails=(checkout.email, checkout.user.email if checkout.user else None),
            names=(address_name(checkout.shipping_address),),
        ),
    )
    return SnapshotResult(row, changed, fresh)
