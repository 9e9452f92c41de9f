"""Returns: eligibility under the installation's policy, then requested → approved → received →
refunded/exchanged, or rejected (``RETURN_TRANSITIONS`` in models/returns.py).

Approval returns the goods in Saleor with ``orderFulfillmentReturnProducts`` and ``refund: false``: on
Transactions-API orders ``refund: true`` fails with CANNOT_REFUND (docs §7.2), so money goes through a
grant instead. Exchanges send ``replace: true`` lines, for which Saleor drafts a replace order. Receiving a
refund return issues the refund through ``services/refunds.py`` under the key ``return-<id>``.

Saleor's return has no idempotency either (§7.3: it moves quantities again until exhausted), so its reason
carries ``[support-return:<id>]`` and a retried approval first looks for that fulfilment in Saleor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportError, SupportErrorCode
from saleor_support_plugin.events import RULE, Actor
from saleor_support_plugin.models import (
    CaseReason,
    Installation,
    OrderSnapshot,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ReturnResolution,
    ReturnStatus,
)
from saleor_support_plugin.models.returns import RETURN_TRANSITIONS
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.models import OrderLine
from saleor_support_plugin.saleor.orders_api import (
    RETURNABLE_FULFILLMENT,
    RETURNED_FULFILLMENT,
    OrderState,
    product_type,
    return_products,
)
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.refund_requests import case_for_order_request, order_for_customer
from saleor_support_plugin.services.refund_steps import order_refresh
from saleor_support_plugin.services.refunds import RefundLine, refund_issue
from saleor_support_plugin.services.snapshots import order_snapshot_apply

logger = logging.getLogger(__name__)
Code = SupportErrorCode
LEASE_SECONDS = 120
MAX_COMMENT = 5000


@dataclass(frozen=True)
class ReturnLineInput:
    order_line_id: str
    quantity: int


def return_policy_get(*, installation: Installation) -> ReturnPolicy:
    """The installation's policy, or the defaults (30 days, everything returnable, no auto-approval)."""
    return ReturnPolicy.objects.filter(installation=installation).first() or ReturnPolicy(installation=installation)


def return_policy_set(
    *,
    installation: Installation,
    window_days: int,
    non_returnable_product_types: Sequence[str] = (),
    non_returnable_skus: Sequence[str] = (),
    allowed_reasons: Sequence[str] = (),
    max_auto_approve_value: Decimal | None = None,
    exchanges_allowed: bool = True,
) -> ReturnPolicy:
    """Replace the installation's return policy. Writes: ReturnPolicy."""
    if window_days < 0 or (max_auto_approve_value is not None and max_auto_approve_value < 0):
        raise PermanentError(Code.INVALID, "The window and the auto-approve value cannot be negative.")
    policy, _ = ReturnPolicy.objects.update_or_create(
        installation=installation,
        defaults={
            "window_days": window_days,
            "non_returnable_product_types": [t.strip() for t in non_returnable_product_types if t.strip()],
            "non_returnable_skus": [s.strip() for s in non_returnable_skus if s.strip()],
            "allowed_reasons": [r.strip() for r in allowed_reasons if r.strip()],
            "max_auto_approve_value": max_auto_approve_value,
            "exchanges_allowed": exchanges_allowed,
        },
    )
    return policy


def return_request_create(
    *,
    installation: Installation,
    order_id: str,
    customer_email: str,
    lines: Sequence[ReturnLineInput],
    reason: str,
    comment: str = "",
    resolution: str = ReturnResolution.REFUND,
    saleor_user_id: str = "",
    client: SaleorClient | None = None,
    at: datetime | None = None,
) -> ReturnRequest:
    """A shopper asks to return items of their order; opens (or joins) a case, and may be auto-approved.

    Checks against the policy and Saleor's current order: the window from each fulfilment's date,
    non-returnable product types/SKUs, quantities not already returned or requested, exchanges allowed,
    the reason. External calls: RefundOrderState; orderFulfillmentReturnProducts when auto-approved.
    Writes: OrderSnapshot, Case, Customer, Message, ReturnRequest, ReturnLines, CaseEvents.
    """
    policy = return_policy_get(installation=installation)
    reason = _checked_reason(policy, reason, resolution)
    _checked_lines(lines)
    client = client or installation_client(installation=installation)
    order = order_for_customer(
        installation=installation,
        order_id=order_id,
        customer_email=customer_email,
        saleor_user_id=saleor_user_id,
        client=client,
    )
    exchange = resolution == ReturnResolution.EXCHANGE
    at = at or timezone.now()
    with transaction.atomic():
        # One return request per order at a time, so two cannot both claim the same items.
        OrderSnapshot.objects.select_for_update().filter(installation=installation, saleor_id=order.id).first()
        rows = [_eligible_line(installation, order, policy, line, at) for line in lines]
        value = sum((row.unit_price * row.quantity for row in rows), Decimal(0))
        case = case_for_order_request(
            installation=installation,
            order=order,
            customer_email=customer_email,
            reason=CaseReason.EXCHANGE_REQUEST if exchange else CaseReason.RETURN_REQUEST,
            subject=f"{'Exchange' if exchange else 'Return'} for order #{order.number}",
            body=_summary(order, rows, reason, comment),
        )
        return_request = ReturnRequest.objects.create(
            installation=installation,
            case=case,
            order_saleor_id=order.id,
            order_number=order.number or "",
            customer_email=case.customer.email if case.customer else customer_email,
            resolution=resolution,
            reason=reason,
            comment=(comment or "").strip()[:MAX_COMMENT],
            currency=order.currency,
            value=value,
        )
        for row in rows:
            row.return_request = return_request
            row.replace = exchange
        ReturnLine.objects.bulk_create(rows)
        shopper = Actor.customer(email=return_request.customer_email)
        events.event_return_requested(case=case, return_request=return_request, actor=shopper)
    limit = policy.max_auto_approve_value
    if limit is not None and value <= limit:
        try:
            return return_request_approve(
                installation=installation, return_request=return_request, actor=RULE, client=client, auto=True
            )
        except SupportError as exc:
            # The shopper's request stands; staff see it (and the failure on the timeline) and decide.
            logger.info("auto-approval failed", extra={"return_request": return_request.pk, "code": exc.code})
    return return_request


def return_request_approve(
    *,
    installation: Installation,
    return_request: ReturnRequest,
    actor: Actor,
    client: SaleorClient | None = None,
    auto: bool = False,
) -> ReturnRequest:
    """Approve: the items are returned in Saleor (``refund: false``; ``replace: true`` for exchanges).

    Guard: requested (an approved request is returned as is). External calls: RefundOrderState, at most
    one orderFulfillmentReturnProducts — none when Saleor already holds the return made by an interrupted
    attempt. Writes: ReturnRequest, ReturnLine.fulfillment_lines, OrderSnapshot, CaseEvents.
    """
    _owned(installation, return_request)
    if return_request.status == ReturnStatus.APPROVED:
        return return_request
    _guard(return_request, ReturnStatus.APPROVED)
    return_request = _claim(return_request)
    try:
        if return_request.status == ReturnStatus.APPROVED:
            return return_request
        _guard(return_request, ReturnStatus.APPROVED)
        client = client or installation_client(installation=installation)
        order = order_refresh(installation=installation, client=client, order_id=return_request.order_saleor_id)
        ids = _saleor_return_found(order, return_request)
        if ids is None:
            ids = _saleor_return(installation, order, return_request, actor, client)
        with transaction.atomic():
            _move(return_request, ReturnStatus.APPROVED, approved_at=timezone.now(), auto_approved=auto, **ids)
            events.event_return_approved(case=return_request.case, return_request=return_request, actor=actor)
    finally:
        _release(return_request)
    return return_request


def return_request_receive(
    *, installation: Installation, return_request: ReturnRequest, actor: Actor, client: SaleorClient | None = None
) -> ReturnRequest:
    """The parcel arrived. Exchanges are complete (the replacement was drafted at approval); refund returns
    issue their refund (services/refunds.py, key ``return-<id>``, lines at Saleor's unit prices).

    Guard: approved (or received whose refund did not go through yet: calling again retries it safely).
    External calls: those of ``refund_issue``. Writes: ReturnRequest, RefundRecord, CaseEvents.
    """
    _owned(installation, return_request)
    with transaction.atomic():
        return_request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if return_request.status != ReturnStatus.RECEIVED:
            _move(return_request, ReturnStatus.RECEIVED, received_at=timezone.now())
            events.event_return_received(case=return_request.case, return_request=return_request, actor=actor)
    if return_request.resolution == ReturnResolution.EXCHANGE:
        with transaction.atomic():
            _move(return_request, ReturnStatus.EXCHANGED, completed_at=timezone.now())
            events.event_return_exchanged(case=return_request.case, return_request=return_request, actor=actor)
        return return_request
    if return_request.case is None:
        raise PermanentError(Code.NOT_FOUND, "The case of this return no longer exists.")
    quantities = return_request.lines.values("order_line_id").annotate(total=Sum("quantity")).order_by("order_line_id")
    record = refund_issue(
        installation=installation,
        case=return_request.case,
        idempotency_key=f"return-{return_request.pk}",
        actor=actor,
        reason=f"Return of order #{return_request.order_number}: {return_request.reason}",
        lines=[RefundLine(order_line_id=q["order_line_id"], quantity=q["total"]) for q in quantities],
        return_request=return_request,
        client=client,
    )
    with transaction.atomic():
        _move(return_request, ReturnStatus.REFUNDED, completed_at=timezone.now())
        events.event_return_refunded(
            case=return_request.case, return_request=return_request, actor=actor, refund_id=record.pk
        )
    return return_request


def return_request_reject(
    *, installation: Installation, return_request: ReturnRequest, actor: Actor, why: str
) -> ReturnRequest:
    """Refuse the return (requested, or approved but never received). Writes: ReturnRequest, CaseEvent."""
    _owned(installation, return_request)
    why = (why or "").strip()
    if not why:
        raise PermanentError(Code.REQUIRED, "Say why the return is rejected.", field="why")
    with transaction.atomic():
        return_request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        _move(return_request, ReturnStatus.REJECTED, rejection_reason=why[:MAX_COMMENT], completed_at=timezone.now())
        events.event_return_rejected(case=return_request.case, return_request=return_request, actor=actor, why=why)
    return return_request


# -- eligibility -----------------------------------------------------------------------------------------
def _checked_reason(policy: ReturnPolicy, reason: str, resolution: str) -> str:
    if resolution not in ReturnResolution.values:
        raise PermanentError(Code.INVALID, f"Unknown resolution {resolution!r}.", field="resolution")
    if resolution == ReturnResolution.EXCHANGE and not policy.exchanges_allowed:
        raise PermanentError(Code.EXCHANGE_NOT_ALLOWED, "This shop does not offer exchanges.", field="resolution")
    reason = (reason or "").strip()[:64]
    if not reason:
        raise PermanentError(Code.REQUIRED, "A reason is required.", field="reason")
    if policy.allowed_reasons and reason not in policy.allowed_reasons:
        raise PermanentError(Code.RETURN_REASON_NOT_ALLOWED, "This reason is not offered for returns.", field="reason")
    return reason


def _checked_lines(lines: Sequence[ReturnLineInput]) -> None:
    ids = [line.order_line_id for line in lines]
    if not ids:
        raise PermanentError(Code.REQUIRED, "Choose at least one item to return.", field="lines")
    if len(set(ids)) != len(ids) or any(line.quantity <= 0 for line in lines):
        raise PermanentError(Code.INVALID, "Each item once, with a positive quantity.", field="lines")


def _returnable(order_line: OrderLine, policy: ReturnPolicy) -> bool:
    skus = {str(s).strip().lower() for s in policy.non_returnable_skus}
    sku = (order_line.product_sku or (order_line.variant or {}).get("sku") or "").lower()
    blocked_types = {str(t).strip().lower() for t in policy.non_returnable_product_types} - {""}
    kind = product_type(order_line)
    names = {str(kind.get("id") or "").lower(), str(kind.get("name") or "").lower()} - {""}
    return not (sku and sku in skus) and not (names & blocked_types)


def _open_quantity(installation: Installation, order_id: str, order_line_id: str) -> int:
    """Items already asked for that Saleor does not show as returned yet."""
    pending = Q(return_request__status=ReturnStatus.REQUESTED) | Q(
        return_request__status=ReturnStatus.APPROVED, return_request__saleor_return_fulfillment_id=""
    )
    return (
        ReturnLine.objects.filter(
            pending,
            return_request__installation=installation,
            return_request__order_saleor_id=order_id,
            order_line_id=order_line_id,
        ).aggregate(total=Sum("quantity"))["total"]
        or 0
    )


def _eligible_line(
    installation: Installation, order: OrderState, policy: ReturnPolicy, line: ReturnLineInput, at: datetime
) -> ReturnLine:
    order_line = order.line(line.order_line_id)
    if order_line is None:
        raise PermanentError(Code.NOT_FOUND, "That item is not on this order.", field="lines")
    if not _returnable(order_line, policy):
        raise PermanentError(Code.ITEM_NOT_RETURNABLE, f"{order_line.product_name} cannot be returned.", field="lines")
    in_window = total = 0
    for fulfillment in order.fulfillments:
        if fulfillment.status not in RETURNABLE_FULFILLMENT:
            continue
        fresh = fulfillment.created is not None and at <= fulfillment.created + timedelta(days=policy.window_days)
        for fl in fulfillment.lines or []:
            if (fl.order_line or {}).get("id") == order_line.id:
                total += fl.quantity
                in_window += fl.quantity if fresh else 0
    open_quantity = _open_quantity(installation, order.id, order_line.id)
    if line.quantity > in_window - open_quantity:
        if line.quantity <= total - open_quantity:
            message = f"The {policy.window_days}-day return window for {order_line.product_name} has closed."
            raise PermanentError(Code.RETURN_WINDOW_EXPIRED, message, field="lines")
        available = max(total - open_quantity, 0)
        message = f"Only {available} of {order_line.product_name} can still be returned."
        raise PermanentError(Code.RETURN_QUANTITY_EXCEEDED, message, field="lines")
    unit = order_line.unit_price.gross.amount if order_line.unit_price else Decimal(0)
    return ReturnLine(
        order_line_id=order_line.id,
        product_name=(order_line.product_name or "")[:255],
        variant_name=(order_line.variant_name or "")[:255],
        product_sku=(order_line.product_sku or "")[:255],
        quantity=line.quantity,
        unit_price=unit,
    )


def _summary(order: OrderState, rows: list[ReturnLine], reason: str, comment: str) -> str:
    items = [f"- {row.quantity} × {' '.join(filter(None, [row.product_name, row.variant_name]))}" for row in rows]
    return "\n".join([f"Return requested for order #{order.number}: {reason}", *items, (comment or "").strip()]).strip()


# -- the Saleor return, made at most once ------------------------------------------------------------------
def _saleor_return_found(order: OrderState, return_request: ReturnRequest) -> dict[str, str] | None:
    marker = return_request.saleor_marker
    ours = [f for f in order.fulfillments if f.status in RETURNED_FULFILLMENT and marker in (f.reason or "")]
    if not ours:
        return None
    returned = next((f.id for f in ours if f.status != "REPLACED"), "")
    replaced = next((f.id for f in ours if f.status == "REPLACED"), "")
    return {"saleor_return_fulfillment_id": returned or replaced, "saleor_replace_fulfillment_id": replaced}


def _allocate(order: OrderState, return_request: ReturnRequest) -> list[tuple[ReturnLine, list[dict]]]:
    """Spread each line over Saleor's current fulfilment lines of that order line, oldest fulfilment first."""
    used: dict[str, int] = {}
    plan = []
    fulfilled = sorted(
        (f for f in order.fulfillments if f.status in RETURNABLE_FULFILLMENT), key=lambda f: f.fulfillment_order or 0
    )
    for line in return_request.lines.all():
        need, picks = line.quantity, []
        for fl in (
            fl for f in fulfilled for fl in f.lines or [] if (fl.order_line or {}).get("id") == line.order_line_id
        ):
            take = min(fl.quantity - used.get(fl.id, 0), need)
            if take > 0:
                picks.append({"fulfillment_line_id": fl.id, "quantity": take})
                used[fl.id] = used.get(fl.id, 0) + take
                need -= take
        if need:
            message = f"Saleor no longer shows {line.quantity} fulfilled {line.product_name} to return."
            raise PermanentError(Code.RETURN_QUANTITY_EXCEEDED, message, field="lines")
        plan.append((line, picks))
    return plan


def _saleor_return(
    installation: Installation, order: OrderState, return_request: ReturnRequest, actor: Actor, client: SaleorClient
) -> dict[str, str]:
    case = return_request.case
    try:
        plan = _allocate(order, return_request)
        with transaction.atomic():
            for line, picks in plan:
                line.fulfillment_lines = picks
                line.save(update_fields=["fulfillment_lines"])
            _move(return_request, return_request.status, saleor_return_started_at=timezone.now())
        saleor_lines = [
            {"fulfillmentLineId": pick["fulfillment_line_id"], "quantity": pick["quantity"], "replace": line.replace}
            for line, picks in plan
            for pick in picks
        ]
        result = return_products(
            client,
            order_id=return_request.order_saleor_id,
            lines=saleor_lines,
            reason=f"{return_request.reason} {return_request.saleor_marker}",
        )
    except (PermanentError, RetryableError) as exc:
        events.event_return_sync_failed(
            case=case, return_request=return_request, actor=actor, code=exc.code.value, message=exc.message
        )
        raise
    if result.order is not None:
        with transaction.atomic():
            order_snapshot_apply(installation=installation, order=result.order, issued_at=timezone.now())
    return {
        "saleor_return_fulfillment_id": result.return_fulfillment_id or result.replace_fulfillment_id,
        "saleor_replace_fulfillment_id": result.replace_fulfillment_id,
        "saleor_replace_order_id": result.replace_order_id,
    }


# -- state and lease -------------------------------------------------------------------------------------
def _owned(installation: Installation, return_request: ReturnRequest) -> None:
    if return_request.installation_id != installation.pk:
        raise PermanentError(Code.NOT_FOUND, "Return request not found.")


def _guard(return_request: ReturnRequest, status: str) -> None:
    if status not in RETURN_TRANSITIONS[return_request.status]:
        message = f"A {return_request.status} return cannot become {status}."
        raise PermanentError(Code.INVALID_STATUS, message, field="status")


def _move(return_request: ReturnRequest, status: str, **fields: object) -> None:
    """Caller is inside ``transaction.atomic``. Same status = only the fields change."""
    if status != return_request.status:
        _guard(return_request, status)
    return_request.status = status
    for name, value in fields.items():
        setattr(return_request, name, value)
    return_request.save(update_fields=sorted({"status", "updated_at", *fields}))


def _claim(return_request: ReturnRequest) -> ReturnRequest:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    taken = ReturnRequest.objects.filter(free, pk=return_request.pk).update(
        lease_until=now + timedelta(seconds=LEASE_SECONDS)
    )
    if not taken:
        raise PermanentError(Code.IN_PROGRESS, "This return is being processed right now; look again shortly.")
    return ReturnRequest.objects.select_related("case", "installation").get(pk=return_request.pk)


def _release(return_request: ReturnRequest) -> None:
    ReturnRequest.objects.filter(pk=return_request.pk).update(lease_until=None)
