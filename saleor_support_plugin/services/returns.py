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
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, SupportError, SupportErrorCode
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
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.refund_requests import case_for_order_request, order_for_customer
from saleor_support_plugin.services.refund_steps import order_refresh
from saleor_support_plugin.services.refunds import RefundLine, refund_issue
from saleor_support_plugin.services.return_steps import (
    ReturnLineInput,
    return_line_eligible,
    return_lines_check,
    return_reason_check,
    return_summary,
    saleor_return_found,
    saleor_return_make,
)

logger = logging.getLogger(__name__)
Code = SupportErrorCode
LEASE_SECONDS = 120
MAX_COMMENT = 5000


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
    reason = return_reason_check(policy, reason, resolution)
    return_lines_check(lines)
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
        rows = [return_line_eligible(installation, order, policy, line, at) for line in lines]
        value = sum((row.unit_price * row.quantity for row in rows), Decimal(0))
        case = case_for_order_request(
            installation=installation,
            order=order,
            customer_email=customer_email,
            reason=CaseReason.EXCHANGE_REQUEST if exchange else CaseReason.RETURN_REQUEST,
            subject=f"{'Exchange' if exchange else 'Return'} for order #{order.number}",
            body=return_summary(order, rows, reason, comment),
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
        ids = saleor_return_found(order, return_request)
        if ids is None:
            ids = saleor_return_make(installation, order, return_request, actor, client)
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
