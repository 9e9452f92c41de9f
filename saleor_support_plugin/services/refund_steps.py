"""The Saleor steps of one refund ledger row: find or create its grant, send it, read the result back.

Called by ``services/refunds.py`` with the row's lease held and the row already committed. Each Saleor
answer is recorded in its own short transaction, with a timeline event naming the actor of this call.
See refunds.py for the whole flow and why it cannot grant twice.
"""

from __future__ import annotations

from typing import NoReturn

from django.db import transaction
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, Installation, RefundRecord, RefundStatus
from saleor_support_plugin.models.returns import REFUND_TRANSITIONS
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.models import GrantedRefund
from saleor_support_plugin.saleor.orders_api import OrderState, grant_create, grant_send, order_state_fetch
from saleor_support_plugin.services.snapshots import order_snapshot_apply

Code = SupportErrorCode


def refund_marker(key: str) -> str:
    """Written into the grant's reason: how a retry recognises the grant an earlier attempt created."""
    return f"[support:{key}]"


def order_refresh(*, installation: Installation, client: SaleorClient, order_id: str) -> OrderState:
    """The order as Saleor holds it now; our snapshot is updated with it (newest state wins).

    External call: RefundOrderState. Writes (after the call, briefly): OrderSnapshot, TransactionSnapshot.
    Case rules do not run: this is our own read, not a Saleor event.
    """
    order = order_state_fetch(client, order_id=order_id)
    with transaction.atomic():
        order_snapshot_apply(installation=installation, order=order, issued_at=timezone.now())
    return order


def order_refresh_for(record: RefundRecord, *, case: Case, actor: Actor, client: SaleorClient) -> OrderState:
    try:
        return order_refresh(installation=record.installation, client=client, order_id=record.order_saleor_id)
    except RetryableError as exc:
        events.event_refund_interrupted(case=case, record=record, actor=actor, stage="read", error=exc.message)
        raise


def record_save(record: RefundRecord, status: str | None = None, **fields: object) -> None:
    """Move the row along REFUND_TRANSITIONS (same status = no move) and save the given fields."""
    changed = set(fields)
    if status is not None and status != record.status:
        if status not in REFUND_TRANSITIONS[record.status]:
            raise PermanentError(Code.INVALID_STATUS, f"A {record.status} refund cannot become {status}.")
        record.status = status
        changed.add("status")
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=sorted({*changed, "updated_at"}))


def own_grant(order: OrderState, record: RefundRecord) -> GrantedRefund | None:
    """Our grant in Saleor: by its id once known, else by the key marker in a grant our app created."""
    if record.grant_saleor_id:
        return next((g for g in order.granted_refunds if g.id == record.grant_saleor_id), None)
    marker = refund_marker(record.idempotency_key)
    app_id = record.installation.app_id
    mine = (
        g for g in order.granted_refunds if marker in (g.reason or "") and (g.app or {}).get("id") in (None, app_id)
    )
    return next(mine, None)


def refund_drive(
    record: RefundRecord, *, case: Case, order: OrderState, actor: Actor, client: SaleorClient
) -> RefundRecord:
    """Take the row from wherever it is to pending/succeeded (returned) or failed (raised).

    Precondition: the caller holds the row's lease. External calls: orderGrantRefundCreate (only when
    Saleor holds no grant of ours), transactionRequestRefundForGrantedRefund (only for a NONE/FAILURE
    grant), RefundOrderState (to read the result). Writes: RefundRecord, CaseEvents, OrderSnapshot.
    """
    grant = own_grant(order, record)
    if grant is None and record.grant_saleor_id:
        _fail(record, case, actor, "grant", PermanentError(Code.NOT_FOUND, "Saleor no longer shows this grant."))
    if grant is None:
        grant = _grant_create(record, case=case, actor=actor, client=client)
    elif not record.grant_saleor_id:
        _granted(record, grant, case=case, actor=actor, recovered=True)
    if grant.status == "SUCCESS":
        return _succeeded(record, case=case, actor=actor)
    if grant.status == "PENDING":
        return _pending(record, case=case, actor=actor, already_sent=True)
    if not _send(record, case=case, actor=actor, client=client):
        return record
    try:
        order = order_refresh(installation=record.installation, client=client, order_id=record.order_saleor_id)
    except RetryableError:
        return record  # sent and accepted; the status will be read on the next look
    grant = own_grant(order, record)
    if grant is not None and grant.status == "SUCCESS":
        return _succeeded(record, case=case, actor=actor)
    if grant is not None and grant.status == "FAILURE":
        _fail(record, case, actor, "payment", PermanentError(Code.REFUND_DECLINED, _failure_message(grant)))
    return record


def _grant_create(record: RefundRecord, *, case: Case, actor: Actor, client: SaleorClient) -> GrantedRefund:
    reason = f"{record.reason} (support case #{case.number}) {refund_marker(record.idempotency_key)}"
    try:
        grant = grant_create(
            client,
            order_id=record.order_saleor_id,
            transaction_id=record.transaction_saleor_id,
            reason=reason,
            amount=record.amount if record.amount_explicit else None,
            lines=record.lines,
            include_shipping=record.include_shipping,
        )
    except RetryableError as exc:
        _interrupted(record, case, actor, "grant", exc)
        raise
    except PermanentError as exc:
        _fail(record, case, actor, "grant", exc)
    _granted(record, grant, case=case, actor=actor, recovered=False)
    return grant


def _granted(record: RefundRecord, grant: GrantedRefund, *, case: Case, actor: Actor, recovered: bool) -> None:
    fields: dict[str, object] = {"grant_saleor_id": grant.id, "error_code": "", "error_message": ""}
    if grant.amount is not None:
        fields["amount"] = grant.amount.amount
    if grant.transaction and grant.transaction.get("id"):
        fields["transaction_saleor_id"] = grant.transaction["id"]
    with transaction.atomic():
        record_save(record, RefundStatus.GRANTED, **fields)
        events.event_refund_granted(case=case, record=record, actor=actor, recovered=recovered)


def _send(record: RefundRecord, *, case: Case, actor: Actor, client: SaleorClient) -> bool:
    """Ask Saleor to refund the grant; True when this call sent it (status read afterwards)."""
    try:
        grant_send(client, grant_id=record.grant_saleor_id)
    except RetryableError as exc:
        _interrupted(record, case, actor, "send", exc)
        raise
    except PermanentError as exc:
        # Someone (an earlier attempt of ours, or staff in the Dashboard) already sent it: not a failure.
        if exc.code == Code.REFUND_PENDING:
            _pending(record, case=case, actor=actor, already_sent=True)
            return False
        if exc.code == Code.REFUND_ALREADY_PROCESSED:
            _succeeded(record, case=case, actor=actor)
            return False
        _fail(record, case, actor, "send", exc)
    _pending(record, case=case, actor=actor, already_sent=False)
    return True


def _pending(record: RefundRecord, *, case: Case, actor: Actor, already_sent: bool) -> RefundRecord:
    if record.status == RefundStatus.PENDING and already_sent:
        return record
    with transaction.atomic():
        attempts = record.attempts + (0 if already_sent else 1)
        record_save(record, RefundStatus.PENDING, attempts=attempts, error_code="", error_message="")
        events.event_refund_sent(case=case, record=record, actor=actor, already_sent=already_sent)
    return record


def _succeeded(record: RefundRecord, *, case: Case, actor: Actor) -> RefundRecord:
    if record.status == RefundStatus.SUCCEEDED:
        return record
    with transaction.atomic():
        record_save(record, RefundStatus.SUCCEEDED, completed_at=timezone.now(), error_code="", error_message="")
        events.event_refund_succeeded(case=case, record=record, actor=actor)
    return record


def _fail(record: RefundRecord, case: Case, actor: Actor, stage: str, exc: SupportError) -> NoReturn:
    """Record Saleor's refusal on the row and the timeline, then raise it."""
    with transaction.atomic():
        record_save(record, RefundStatus.FAILED, error_code=exc.code.value, error_message=exc.message[:2000])
        events.event_refund_failed(case=case, record=record, actor=actor, stage=stage)
    raise exc


def _interrupted(record: RefundRecord, case: Case, actor: Actor, stage: str, exc: RetryableError) -> None:
    with transaction.atomic():
        record_save(record, error_code=exc.code.value, error_message=exc.message[:2000])
        events.event_refund_interrupted(case=case, record=record, actor=actor, stage=stage, error=exc.message)


def _failure_message(grant: GrantedRefund) -> str:
    failures = [e for e in grant.transaction_events or [] if e.type == "REFUND_FAILURE"]
    newest = max(failures, key=lambda e: e.created_at or timezone.now(), default=None)
    detail = (newest.message if newest else "") or "no reason given"
    return f"The payment provider declined the refund: {detail}"
