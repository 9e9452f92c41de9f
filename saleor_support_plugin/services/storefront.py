"""What shoppers do from the storefront: open a case (optionally about one of their orders)."""

from __future__ import annotations

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, CaseReason, CaseSource, Installation, MessageChannel
from saleor_support_plugin.services.cases import case_open
from saleor_support_plugin.services.orders import access_order_for_shopper


def case_open_from_storefront(
    *,
    installation: Installation,
    email: str,
    subject: str,
    message: str,
    saleor_user_id: str = "",
    order_id: str = "",
    guest_order_id: str = "",
    reason: str = CaseReason.OTHER,
) -> Case:
    """A shopper opens a case with a first message; an order, if named, must be theirs.

    A guest (``guest_order_id`` set) may only open cases about the order they proved, which is also the
    default order. External call: Saleor ``OrderById`` when we never saw the order. Writes: what
    ``case_open`` writes (Customer, Case, Message, CaseEvents).
    """
    if not (message or "").strip():
        raise PermanentError(SupportErrorCode.REQUIRED, "message is required.", field="message")
    if guest_order_id and order_id and order_id != guest_order_id:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Order not found.", field="orderId")
    order_id = order_id or guest_order_id
    order = None
    if order_id:
        order = access_order_for_shopper(
            installation=installation, order_id=order_id, email=email, saleor_user_id=saleor_user_id
        )
    return case_open(
        installation=installation,
        subject=subject,
        reason=reason,
        source=CaseSource.STOREFRONT,
        actor=Actor.customer(email=email),
        customer_email=email,
        saleor_user_id=saleor_user_id,
        order_saleor_id=order.saleor_id if order else "",
        order_number=order.number if order else "",
        currency=order.currency if order else "",
        language_code=order.language_code if order else "",
        first_message=message,
        message_channel=MessageChannel.STOREFRONT,
    )
