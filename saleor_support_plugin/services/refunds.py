"""Refunds carried out in Saleor, exactly once per idempotency key (docs/saleor-integration §7).

Saleor has no idempotency key on any refund mutation (§7.3): a repeated ``orderGrantRefundCreate`` is a
second grant. So ``refund_issue`` works like this, and every step is safe to repeat:

1. Fetch the order fresh from Saleor (webhook payloads are rendered late, §4.3) and plan the refund: the
   amount (explicit, or lines × unit price + shipping) and the charged transaction to take it from.
2. Commit the ledger row (``RefundRecord``) under the idempotency key, after the refund limits — or find
   the row an earlier attempt wrote. A lease on the row keeps two workers from driving one key at once.
3. Look for our own grant in ``order.grantedRefunds`` (by id, else by the ``[support:<key>]`` marker we
   put in its reason: the grant of an attempt whose answer we never saw) and create one only if none.
4. Send it unless Saleor already did (NONE/FAILURE → send; PENDING → pending; SUCCESS → done), then read
   the grant's status back.
5. Record each outcome in its own commit with a timeline event naming who did it.

No Saleor call runs inside ``transaction.atomic``. Shoppers never reach this module's money paths: their
``refund_request`` (services/refund_requests.py) only opens a case for staff.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import (
    Case,
    CaseStatus,
    Installation,
    RefundRecord,
    RefundStatus,
    ReturnRequest,
)
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.orders_api import OrderState
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.refund_limits import (
    refund_limits_check,
    refund_limits_check_early,
    refund_refused_record,
)
from saleor_support_plugin.services.refund_steps import order_refresh, order_refresh_for, refund_drive

Code = SupportErrorCode
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,79}$")
MAX_REASON = 1000
LEASE_MIN_SECONDS = 60


@dataclass(frozen=True)
class RefundLine:
    order_line_id: str
    quantity: int
    reason: str = ""


@dataclass(frozen=True)
class RefundPlan:
    amount: Decimal
    currency: str
    transaction_id: str


def refund_issue(
    *,
    installation: Installation,
    case: Case,
    idempotency_key: str,
    actor: Actor,
    reason: str,
    amount: Decimal | None = None,
    lines: Sequence[RefundLine] = (),
    include_shipping: bool = False,
    return_request: ReturnRequest | None = None,
    client: SaleorClient | None = None,
) -> RefundRecord:
    """Refund money on the case's order through Saleor, once per ``idempotency_key``; returns the ledger row.

    External calls, never inside a DB transaction: ``RefundOrderState`` (before, and after sending), at
    most one ``orderGrantRefundCreate`` and one ``transactionRequestRefundForGrantedRefund``.
    Writes: RefundRecord (committed before the first mutation, then after each answer), CaseEvents,
    OrderSnapshot. Returns the row once Saleor accepted the refund (status pending or succeeded); a repeat
    of a finished key returns the same row without calling Saleor. Raises PermanentError for bad input,
    limits (refused before any mutation), a reused key, or Saleor's refusal (the row is then failed with
    Saleor's code and message); RetryableError when Saleor could not be reached — retry with the same key.
    """
    _owned(installation, case)
    case = Case.objects.select_related("installation").filter(pk=case.pk).first()  # guards read the current state
    if case is None:
        raise PermanentError(Code.NOT_FOUND, "Case not found.", field="case")
    key = _key(idempotency_key)
    wanted = _wanted(lines=lines, amount=amount, include_shipping=include_shipping, reason=reason)
    request_hash = _hash(case, wanted)
    record = RefundRecord.objects.filter(installation=installation, idempotency_key=key).first()
    if record is not None:
        return _retry(record, request_hash=request_hash, actor=actor, client=client)
    if case.status == CaseStatus.CLOSED or not case.order_saleor_id:
        raise PermanentError(Code.INVALID, "Only an open case about an order can be refunded.", field="case")
    if amount is not None:
        refund_limits_check_early(installation, case, amount=amount, actor=actor)
    client = client or installation_client(installation=installation)
    order = order_refresh(installation=installation, client=client, order_id=case.order_saleor_id)
    plan = _plan(order, wanted)
    try:
        record = _record_open(case, key, request_hash, order, plan, wanted, actor, return_request)
    except IntegrityError:
        # Another request with this key won the insert a moment ago: it holds the lease.
        record = RefundRecord.objects.get(installation=installation, idempotency_key=key)
        return _retry(record, request_hash=request_hash, actor=actor, client=client)
    except PermanentError as exc:
        refund_refused_record(case, actor, exc, amount=plan.amount, currency=plan.currency)
        raise
    return _run(record, case=case, actor=actor, client=client, order=order)


def refund_resume(
    *, installation: Installation, record: RefundRecord, actor: Actor, client: SaleorClient | None = None
) -> RefundRecord:
    """Carry an unfinished ledger row on from where it stopped (same guarantees as ``refund_issue``)."""
    _owned(installation, record)
    return _retry(record, request_hash=record.request_hash, actor=actor, client=client)


# -- input -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Wanted:
    lines: tuple[RefundLine, ...]
    amount: Decimal | None
    include_shipping: bool
    reason: str


def _owned(installation: Installation, obj: Case | RefundRecord) -> None:
    # Another installation's row answers exactly like a missing one.
    if obj.installation_id != installation.pk:
        raise PermanentError(Code.NOT_FOUND, "Case not found." if isinstance(obj, Case) else "Refund not found.")


def _key(raw: str) -> str:
    key = (raw or "").strip()
    if not KEY_PATTERN.match(key):
        raise PermanentError(
            Code.INVALID, "idempotency_key must be 8-80 letters, digits or _ . : -", field="idempotency_key"
        )
    return key


def _wanted(*, lines: Sequence[RefundLine], amount: Decimal | None, include_shipping: bool, reason: str) -> _Wanted:
    reason = (reason or "").strip()
    if not reason:
        raise PermanentError(Code.REQUIRED, "A reason is required.", field="reason")
    if len(reason) > MAX_REASON:
        raise PermanentError(Code.INVALID, f"reason is longer than {MAX_REASON} characters.", field="reason")
    if amount is None and not lines and not include_shipping:
        raise PermanentError(Code.REQUIRED, "Give an amount, lines, or shipping to refund.", field="amount")
    if amount is not None and amount <= 0:
        raise PermanentError(Code.INVALID, "The amount must be positive.", field="amount")
    ids = [line.order_line_id for line in lines]
    if len(set(ids)) != len(ids) or any(line.quantity <= 0 for line in lines):
        raise PermanentError(Code.INVALID, "Each order line once, with a positive quantity.", field="lines")
    ordered = tuple(sorted(lines, key=lambda line: line.order_line_id))
    return _Wanted(ordered, amount, include_shipping, reason)


def _hash(case: Case, wanted: _Wanted) -> str:
    body = {
        "case": case.pk,
        "lines": [asdict(line) for line in wanted.lines],
        "amount": None if wanted.amount is None else format(wanted.amount.normalize(), "f"),
        "shipping": wanted.include_shipping,
        "reason": wanted.reason,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _plan(order: OrderState, wanted: _Wanted) -> RefundPlan:
    """What Saleor will grant: ``amount`` as given, else lines × unit gross + shipping, capped like Saleor."""
    computed = Decimal(0)
    for line in wanted.lines:
        order_line = order.line(line.order_line_id)
        if order_line is None:
            raise PermanentError(
                Code.NOT_FOUND, f"Order line {line.order_line_id} is not on this order.", field="lines"
            )
        if order_line.unit_price is not None:
            computed += order_line.unit_price.gross.amount * line.quantity
    if wanted.include_shipping and order.shipping_price is not None:
        computed += order.shipping_price.gross.amount
    amount = wanted.amount if wanted.amount is not None else computed
    if amount <= 0:
        raise PermanentError(Code.INVALID, "There is nothing to refund for these lines.", field="lines")
    tx_id, charged = _transaction_for(order, amount)
    if wanted.amount is None:
        amount = min(amount, charged)  # Saleor grants min(calculated, transaction.chargedAmount)
    return RefundPlan(amount=amount, currency=order.currency, transaction_id=tx_id)


def _transaction_for(order: OrderState, amount: Decimal) -> tuple[str, Decimal]:
    """A charged transaction that covers ``amount``, preferring ones whose payment app offers REFUND.

    When none covers it we still pick the most charged one and let Saleor judge: it answers
    AMOUNT_GREATER_THAN_AVAILABLE, which the ledger records with Saleor's own words.
    """
    charged = [
        (tx.id, tx.charged_amount.amount, "REFUND" in tx.actions)
        for tx in order.transactions
        if tx.charged_amount is not None and tx.charged_amount.amount > 0
    ]
    if not charged:
        raise PermanentError(Code.NO_CHARGED_TRANSACTION, "No payment on this order has money to refund.")
    enough = [c for c in charged if c[1] >= amount] or charged
    tx_id, value, _ = max(enough, key=lambda c: (c[2], c[1]))
    return tx_id, value


# -- the ledger row and its lease ------------------------------------------------------------------------
def _record_open(
    case: Case,
    key: str,
    request_hash: str,
    order: OrderState,
    plan: RefundPlan,
    wanted: _Wanted,
    actor: Actor,
    return_request: ReturnRequest | None,
) -> RefundRecord:
    with transaction.atomic():
        refund_limits_check(case.installation, amount=plan.amount, currency=plan.currency, lock=True)
        record = RefundRecord.objects.create(
            installation_id=case.installation_id,
            case=case,
            return_request=return_request,
            idempotency_key=key,
            request_hash=request_hash,
            order_saleor_id=order.id,
            order_number=order.number or "",
            transaction_saleor_id=plan.transaction_id,
            amount=plan.amount,
            amount_explicit=wanted.amount is not None,
            currency=plan.currency,
            lines=[asdict(line) for line in wanted.lines],
            include_shipping=wanted.include_shipping,
            reason=wanted.reason,
            actor_type=actor.type,
            actor_email=actor.email,
            actor_user_id=actor.user_id,
            lease_until=_lease_end(),
        )
        events.event_refund_requested(case=case, record=record, actor=actor)
    return record


def _lease_end() -> datetime:
    seconds = max(LEASE_MIN_SECONDS, 6 * support_settings().saleor_timeout_seconds)
    return timezone.now() + timedelta(seconds=seconds)


def _claim(record: RefundRecord) -> None:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())
    if not RefundRecord.objects.filter(free, pk=record.pk).update(lease_until=_lease_end()):
        raise PermanentError(Code.IN_PROGRESS, "This refund is being processed right now; look again shortly.")
    record.refresh_from_db()


def _release(record: RefundRecord) -> None:
    RefundRecord.objects.filter(pk=record.pk).update(lease_until=None)
    record.lease_until = None


def _retry(record: RefundRecord, *, request_hash: str, actor: Actor, client: SaleorClient | None) -> RefundRecord:
    if record.request_hash != request_hash:
        raise PermanentError(
            Code.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was used for a different refund.",
            field="idempotency_key",
        )
    if record.status == RefundStatus.SUCCEEDED:
        return record
    if record.case is None:
        raise PermanentError(Code.NOT_FOUND, "The case of this refund no longer exists.")
    client = client or installation_client(installation=record.installation)
    _claim(record)
    if record.status == RefundStatus.FAILED:
        try:
            with transaction.atomic():
                refund_limits_check(
                    record.installation, amount=record.amount, currency=record.currency, lock=True, exclude_pk=record.pk
                )
        except PermanentError:
            _release(record)
            raise
    return _run(record, case=record.case, actor=actor, client=client)


# -- driving one row through Saleor ----------------------------------------------------------------------
def _run(
    record: RefundRecord, *, case: Case, actor: Actor, client: SaleorClient, order: OrderState | None = None
) -> RefundRecord:
    """Precondition: the caller holds the row's lease; it is released here whatever happens."""
    try:
        if order is None:
            order = order_refresh_for(record, case=case, actor=actor, client=client)
        return refund_drive(record, case=case, order=order, actor=actor, client=client)
    finally:
        _release(record)
