"""What shoppers may ask for about their own orders: a refund (a case for staff) and the checks that
returns share. Nothing here moves money; staff do that through ``services/refunds.py``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, CaseReason, CaseSource, Installation, MessageChannel
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.orders_api import OrderState
from saleor_support_plugin.services.cases import case_message_receive, case_open
from saleor_support_plugin.services.customers import normalize_email
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.refund_steps import order_refresh
from saleor_support_plugin.services.refunds import RefundLine

Code = SupportErrorCode
MAX_TEXT = 5000
MAX_ORDER_ID = 255


def order_for_customer(
    *,
    installation: Installation,
    order_id: str,
    customer_email: str,
    saleor_user_id: str = "",
    client: SaleorClient | None = None,
) -> OrderState:
    """The order, fresh from Saleor, if it belongs to this shopper (same e-mail, case-insensitive, or same
    Saleor user, as ``services/orders.access_order_for_shopper``); NOT_FOUND otherwise.

    Someone else's order answers exactly like a missing one. The caller proved the identity (customer JWT
    or guest order proof, docs §8). External call: RefundOrderState. Writes: OrderSnapshot.
    """
    email = normalize_email(customer_email)
    if not _looks_like_order_id(order_id):
        raise PermanentError(Code.NOT_FOUND, "Order not found.", field="order_id")  # garbage never reaches Saleor
    client = client or installation_client(installation=installation)
    try:
        order = order_refresh(installation=installation, client=client, order_id=order_id)
    except PermanentError as exc:
        if exc.code == Code.SALEOR_PERMISSION_DENIED:
            raise
        order = None  # Saleor does not know it, or refused the id: the same answer as "not yours"
    same_email = order is not None and (order.user_email or "").strip().lower() == email
    same_user = (
        order is not None and bool(saleor_user_id) and order.user is not None and order.user.id == saleor_user_id
    )
    if not (same_email or same_user):
        raise PermanentError(Code.NOT_FOUND, "Order not found.", field="order_id")
    return order


def case_for_order_request(
    *, installation: Installation, order: OrderState, customer_email: str, reason: str, subject: str, body: str
) -> Case:
    """The shopper's active case about this order (opened by people, not a rule) with ``body`` added as their
    message, or a new storefront case. Writes: Case, Customer, Message, CaseEvents.
    """
    email = normalize_email(customer_email)
    case = (
        Case.objects.for_installation(installation)
        .active()
        .filter(order_saleor_id=order.id, rule="", customer__email=email)
        .order_by("-created_at", "-pk")
        .first()
    )
    if case is not None:
        case_message_receive(case=case, body=body, channel=MessageChannel.STOREFRONT, author_email=email)
        return case
    return case_open(
        installation=installation,
        subject=subject,
        reason=reason,
        source=CaseSource.STOREFRONT,
        actor=Actor.customer(email=email),
        customer_email=email,
        saleor_user_id=(order.user.id or "") if order.user else "",
        order_saleor_id=order.id,
        order_number=order.number or "",
        currency=order.currency,
        first_message=body,
        message_channel=MessageChannel.STOREFRONT,
    )


def refund_request(
    *,
    installation: Installation,
    order_id: str,
    customer_email: str,
    reason: str,
    comment: str = "",
    lines: Sequence[RefundLine] = (),
    amount: Decimal | None = None,
    saleor_user_id: str = "",
    client: SaleorClient | None = None,
) -> Case:
    """A shopper asks for a refund on their order: opens (or joins) a case for staff. Never moves money.

    External call: RefundOrderState (ownership and lines are checked against Saleor's order).
    Writes: OrderSnapshot, Case, Customer, Message, CaseEvents.
    """
    reason = _text(reason, "reason", 255)
    comment = (comment or "").strip()[:MAX_TEXT]
    order = order_for_customer(
        installation=installation,
        order_id=order_id,
        customer_email=customer_email,
        saleor_user_id=saleor_user_id,
        client=client,
    )
    described = [_line_text(order, line) for line in lines]
    total = order.total.gross.amount if order.total else None
    if amount is not None and (amount <= 0 or (total is not None and amount > total)):
        raise PermanentError(Code.INVALID, "The amount must be positive and at most the order total.", field="amount")
    parts = [f"Refund requested for order #{order.number}: {reason}", *described]
    if amount is not None:
        parts.append(f"Amount asked: {amount} {order.currency}")
    if comment:
        parts.append(comment)
    with transaction.atomic():
        case = case_for_order_request(
            installation=installation,
            order=order,
            customer_email=customer_email,
            reason=CaseReason.REFUND_REQUEST,
            subject=f"Refund request for order #{order.number}",
            body="\n".join(parts),
        )
        events.event_refund_requested_by_customer(
            case=case,
            actor=Actor.customer(email=normalize_email(customer_email)),
            order_number=order.number or "",
            amount=amount,
            currency=order.currency,
            lines=[{"order_line_id": line.order_line_id, "quantity": line.quantity} for line in lines],
        )
    return case


def _looks_like_order_id(order_id: str) -> bool:
    """A Saleor order id is base64 of ``Order:<uuid or number>``."""
    if not order_id or len(order_id) > MAX_ORDER_ID:
        return False
    try:
        decoded = base64.b64decode(order_id, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    kind, _, raw = decoded.partition(":")
    return kind == "Order" and bool(raw) and len(raw) <= 64


def _text(value: str, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise PermanentError(Code.REQUIRED, f"{field} is required.", field=field)
    return text[:limit]


def _line_text(order: OrderState, line: RefundLine) -> str:
    order_line = order.line(line.order_line_id)
    if order_line is None:
        raise PermanentError(Code.NOT_FOUND, "That item is not on this order.", field="lines")
    if not 0 < line.quantity <= order_line.quantity:
        raise PermanentError(Code.INVALID, "The quantity is more than was ordered.", field="lines")
    name = " ".join(filter(None, [order_line.product_name, order_line.variant_name]))
    return f"- {line.quantity} × {name or order_line.product_sku or order_line.id}"
