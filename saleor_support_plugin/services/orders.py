"""Orders as support sees them: refresh a snapshot from Saleor on demand, open a case about an order.

A refresh goes through the same inbox as webhooks and polls (an ``ORDER_POLLED`` row keyed by order id
and change stamp), so a refreshed order dedupes against the poll that would have brought the same
state, and the snapshot and case rules run exactly as for any other change.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re

from django.db import transaction
from django.utils import timezone

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, CasePriority, CaseReason, CaseSource, Installation, OrderSnapshot
from saleor_support_plugin.models.polling import PollKind
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.models import Order
from saleor_support_plugin.services.cases import case_assign, case_note_add, case_open
from saleor_support_plugin.services.inbox import poll_dedupe_key, webhook_event_process, webhook_event_record
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.polling import ORDER_POLLED
from saleor_support_plugin.services.snapshots import order_stamp

logger = logging.getLogger(__name__)

MAX_ORDER_ID_LENGTH = 255
# Saleor's order ids: base64 of "Order:<uuid>" (or "Order:<int>" for orders older than Saleor 3.2).
_ORDER_GLOBAL_ID = re.compile(
    r"Order:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{1,18})"
)


def _order_not_found() -> PermanentError:
    return PermanentError(SupportErrorCode.NOT_FOUND, "Order not found.", field="orderId")


def order_snapshot_refresh(
    *, installation: Installation, order_id: str, client: SaleorClient | None = None
) -> OrderSnapshot:
    """Fetch the order from Saleor (``OrderById``), pass it through the inbox, and return the fresh snapshot.

    External call: Saleor ``OrderById`` with the app token (before any write). Writes, in one transaction:
    a WebhookEvent (unless this exact state is already in the inbox) and whatever processing it writes
    (snapshots, rule cases). Raises NOT_FOUND when Saleor has no such order, RetryableError when Saleor
    is unreachable.
    """
    if not order_id or len(order_id) > MAX_ORDER_ID_LENGTH:
        raise _order_not_found()
    client = client or installation_client(installation=installation)
    node = client.execute("OrderById", {"id": order_id}).get("order")
    if not isinstance(node, dict):
        raise _order_not_found()
    order = Order.model_validate(node)
    polled_at = timezone.now()
    stamp = order_stamp(order)
    version = stamp.isoformat() if stamp else json.dumps(node, sort_keys=True)
    key = poll_dedupe_key(
        api_url=installation.saleor_api_url, kind=PollKind.ORDERS, object_id=order.id, version=version
    )
    with transaction.atomic():
        event = webhook_event_record(
            installation=installation,
            event_type=ORDER_POLLED,
            raw_body=json.dumps({"polledAt": polled_at.isoformat(), "order": node}),
            dedupe_key=key,
            object_id=order.id,
            issued_at=polled_at,
        )
        if event is not None:
            # Processed here, in the transaction that inserted it, so the caller sees the fresh state and no
            # worker can take the row first; the task enqueued on commit finds it processed and does nothing.
            webhook_event_process(event_id=event.pk)
    snapshot = OrderSnapshot.objects.filter(installation=installation, saleor_id=order.id).first()
    if snapshot is None:
        logger.warning("order refresh left no snapshot", extra={"saleor_api_url": installation.saleor_api_url})
        raise _order_not_found()
    return snapshot


def order_snapshot_get_or_refresh(*, installation: Installation, order_id: str) -> OrderSnapshot:
    """The order snapshot we hold, fetched from Saleor first when we have never seen the (well-formed) order id."""
    snapshot = OrderSnapshot.objects.filter(installation=installation, saleor_id=order_id).first()
    if snapshot is not None:
        return snapshot
    if not _is_order_id(order_id):
        raise _order_not_found()
    return order_snapshot_refresh(installation=installation, order_id=order_id)


def _is_order_id(order_id: str) -> bool:
    try:
        decoded = base64.b64decode(order_id, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return _ORDER_GLOBAL_ID.fullmatch(decoded) is not None


def access_order_for_shopper(
    *, installation: Installation, order_id: str, email: str, saleor_user_id: str = ""
) -> OrderSnapshot:
    """The order if this shopper owns it (same e-mail, case-insensitive, or same Saleor user), else NOT_FOUND.

    This is the guest proof of docs/saleor-integration §8.2: the order id is Saleor's bearer secret and
    the e-mail must match it. External call: Saleor ``OrderById`` only for a well-formed order id we
    hold no snapshot of (so garbage ids cannot make us call Saleor).
    """
    if not order_id or len(order_id) > MAX_ORDER_ID_LENGTH:
        raise _order_not_found()
    snapshot = OrderSnapshot.objects.filter(installation=installation, saleor_id=order_id).first()
    if snapshot is None and _is_order_id(order_id):
        snapshot = order_snapshot_refresh(installation=installation, order_id=order_id)
    if snapshot is None:
        raise _order_not_found()
    same_email = bool(email) and snapshot.user_email.strip().lower() == email.strip().lower()
    same_user = bool(saleor_user_id) and snapshot.saleor_user_id == saleor_user_id
    if not (same_email or same_user):
        raise _order_not_found()
    return snapshot


def case_open_from_order(
    *,
    installation: Installation,
    order_id: str,
    subject: str,
    actor: Actor,
    reason: str = CaseReason.OTHER,
    priority: str = CasePriority.NORMAL,
    note: str = "",
    assign_to_actor: bool = False,
) -> Case:
    """Staff open a case about an order by hand: the order's customer, number and currency come from its snapshot.

    External call: Saleor ``OrderById`` only when we hold no snapshot of the order. Writes: what
    ``case_open`` writes, plus a Note and an assignment when asked, in one transaction.
    """
    order = order_snapshot_get_or_refresh(installation=installation, order_id=order_id)
    with transaction.atomic():
        case = case_open(
            installation=installation,
            subject=subject,
            reason=reason,
            priority=priority,
            source=CaseSource.STAFF,
            actor=actor,
            customer_email=order.user_email,
            saleor_user_id=order.saleor_user_id,
            order_saleor_id=order.saleor_id,
            order_number=order.number,
            currency=order.currency,
            language_code=order.language_code,
            detail="opened by staff from the order",
        )
        if note.strip():
            case_note_add(case=case, body=note, actor=actor)
        if assign_to_actor:
            case = case_assign(case=case, assignee_user_id=actor.user_id, assignee_email=actor.email, actor=actor)
    return case
