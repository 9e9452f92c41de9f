"""The checks and Saleor steps behind ``services/returns.py``: is an item returnable under the policy, and the
Saleor return itself, made at most once (its reason carries ``[support-return:<id>]``, which a retried
approval looks for before returning anything again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import (
    Installation,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ReturnResolution,
    ReturnStatus,
)
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.models import OrderLine
from saleor_support_plugin.saleor.orders_api import (
    RETURNABLE_FULFILLMENT,
    RETURNED_FULFILLMENT,
    OrderState,
    product_type,
    return_products,
)
from saleor_support_plugin.services.snapshots import order_snapshot_apply

Code = SupportErrorCode


@dataclass(frozen=True)
class ReturnLineInput:
    order_line_id: str
    quantity: int


# -- eligibility -----------------------------------------------------------------------------------------
def return_reason_check(policy: ReturnPolicy, reason: str, resolution: str) -> str:
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


def return_lines_check(lines: Sequence[ReturnLineInput]) -> None:
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


def return_line_eligible(
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


def return_summary(order: OrderState, rows: list[ReturnLine], reason: str, comment: str) -> str:
    items = [f"- {row.quantity} × {' '.join(filter(None, [row.product_name, row.variant_name]))}" for row in rows]
    return "\n".join([f"Return requested for order #{order.number}: {reason}", *items, (comment or "").strip()]).strip()


# -- the Saleor return, made at most once ------------------------------------------------------------------
def saleor_return_found(order: OrderState, return_request: ReturnRequest) -> dict[str, str] | None:
    marker = return_request.saleor_marker
    ours = [f for f in order.fulfillments if f.status in RETURNED_FULFILLMENT and marker in (f.reason or "")]
    if not ours:
        return None
    returned = next((f.id for f in ours if f.status != "REPLACED"), "")
    replaced = next((f.id for f in ours if f.status == "REPLACED"), "")
    return {"saleor_return_fulfillment_id": returned or replaced, "saleor_replace_fulfillment_id": replaced}


def saleor_return_allocate(order: OrderState, return_request: ReturnRequest) -> list[tuple[ReturnLine, list[dict]]]:
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


def saleor_return_make(
    installation: Installation, order: OrderState, return_request: ReturnRequest, actor: Actor, client: SaleorClient
) -> dict[str, str]:
    case = return_request.case
    try:
        plan = saleor_return_allocate(order, return_request)
        with transaction.atomic():
            for line, picks in plan:
                line.fulfillment_lines = picks
                line.save(update_fields=["fulfillment_lines"])
            return_request.saleor_return_started_at = timezone.now()
            return_request.save(update_fields=["saleor_return_started_at", "updated_at"])
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
