"""Pull from Saleor what webhooks never report, into the same inbox (POLLING.md §4, §9).

Payment failures on checkouts and unpaid orders fire no webhook, and some failures move no timestamp;
the split ``transactions`` poll finds them. Orders changed since the cursor are pulled too, so a lost
or never-sent webhook still reaches the snapshot. Every polled object becomes an inbox row keyed by
(kind, object id, change stamp): re-polls, overlaps and backfills dedupe against each other, and
webhooks and polls converge on the same newest-wins snapshot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db.models import Q
from django.utils import timezone
from pydantic import ValidationError

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import EventSource, Installation, PollCursor, WebhookEvent
from saleor_support_plugin.models.polling import PollKind
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.models import Checkout, Order, SaleorModel, Transaction
from saleor_support_plugin.services.case_rules import (
    case_rules_on_checkout,
    case_rules_on_order,
    case_rules_on_transaction,
)
from saleor_support_plugin.services.inbox import poll_dedupe_key, webhook_event_record
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.snapshots import (
    checkout_snapshot_apply,
    checkout_stamp,
    order_snapshot_apply,
    order_stamp,
    transaction_snapshot_apply,
    transaction_stamp,
)

logger = logging.getLogger(__name__)
M = TypeVar("M", Order, Transaction, Checkout)

PAGE_SIZE = 100
MAX_PAGES = 500  # 50k objects per poll: a runaway cursor must not loop forever
LEASE = timedelta(minutes=5)
ORDER_POLLED = "ORDER_POLLED"
TRANSACTION_POLLED = "TRANSACTION_POLLED"
CHECKOUT_POLLED = "CHECKOUT_POLLED"


class PolledOrder(SaleorModel):
    polled_at: datetime
    order: Order


class PolledTransaction(SaleorModel):
    polled_at: datetime
    transaction: Transaction


class PolledCheckout(SaleorModel):
    polled_at: datetime
    checkout: Checkout


@dataclass
class PollResult:
    seen: int = 0
    enqueued: int = 0

    def add(self, recorded: bool) -> None:
        self.seen += 1
        self.enqueued += int(recorded)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _record(
    *,
    installation: Installation,
    kind: str,
    event_type: str,
    key: str,
    object_id: str,
    stamp: datetime | None,
    body: dict,
    polled_at: datetime,
    source: str,
) -> bool:
    version = _iso(stamp) if stamp else json.dumps(body, sort_keys=True)
    event = webhook_event_record(
        installation=installation,
        event_type=event_type,
        raw_body=json.dumps({"polledAt": _iso(polled_at), key: body}),
        dedupe_key=poll_dedupe_key(
            api_url=installation.saleor_api_url, kind=kind, object_id=object_id, version=version
        ),
        object_id=object_id,
        issued_at=polled_at,
        source=source,
    )
    return event is not None


def _parsed(model: type[M], node: dict, installation: Installation) -> M | None:
    """Parse one polled object; a malformed one is logged and skipped so it cannot block the cursor forever."""
    try:
        return model.model_validate(node)
    except ValidationError as exc:
        logger.error(
            "polled %s does not match our model, skipped: %s",
            model.__name__,
            exc,
            extra={"saleor_api_url": installation.saleor_api_url, "object_id": node.get("id")},
        )
        return None


def orders_record(
    *, installation: Installation, nodes: list[dict], polled_at: datetime, source: str = EventSource.POLL
) -> PollResult:
    """Put polled orders into the inbox (deduped by id + change stamp). Writes: WebhookEvent rows."""
    result = PollResult()
    for node in nodes:
        order = _parsed(Order, node, installation)
        if order is None:
            continue
        result.add(
            _record(
                installation=installation,
                kind=PollKind.ORDERS,
                event_type=ORDER_POLLED,
                key="order",
                object_id=order.id,
                stamp=order_stamp(order),
                body=node,
                polled_at=polled_at,
                source=source,
            )
        )
    return result


def _pages(fetch: Callable[[str | None], dict]) -> Iterator[list[dict]]:
    after: str | None = None
    for _ in range(MAX_PAGES):
        connection = fetch(after)
        yield [edge["node"] for edge in connection.get("edges") or []]
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after = info.get("endCursor")
    raise PermanentError(SupportErrorCode.SALEOR_ERROR, "Polling stopped: too many pages in one run.")


def orders_changed_pages(
    client: SaleorClient, *, since: datetime, on_total: Callable[[int], None] | None = None
) -> Iterator[list[dict]]:
    """Pages of orders whose ``updatedAt`` ≥ since, oldest change first."""

    def fetch(after: str | None) -> dict:
        data = client.execute("PollOrders", {"since": _iso(since), "first": PAGE_SIZE, "after": after})
        connection = data.get("orders") or {}
        if on_total is not None and connection.get("totalCount") is not None:
            on_total(int(connection["totalCount"]))
        return connection

    return _pages(fetch)


def payment_failure_nodes(client: SaleorClient, *, since: datetime) -> list[dict]:
    """Transactions with failure events that changed, or got any event, since ``since`` (both aliases)."""
    found: dict[str, dict] = {}
    cursors: dict[str, str | None] = {"byModified": None, "byEvent": None}
    open_aliases = set(cursors)
    for _ in range(MAX_PAGES):
        data = client.execute(
            "PollPaymentFailures",
            {
                "since": _iso(since),
                "first": PAGE_SIZE,
                "afterModified": cursors["byModified"],
                "afterEvent": cursors["byEvent"],
            },
        )
        for alias in list(open_aliases):
            connection = data.get(alias) or {}
            for edge in connection.get("edges") or []:
                found[edge["node"]["id"]] = edge["node"]
            info = connection.get("pageInfo") or {}
            cursors[alias] = info.get("endCursor") or cursors[alias]
            if not info.get("hasNextPage"):
                open_aliases.discard(alias)
        if not open_aliases:
            return list(found.values())
    raise PermanentError(SupportErrorCode.SALEOR_ERROR, "Polling stopped: too many pages in one run.")


def _checkout_details(client: SaleorClient, checkout_id: str) -> dict | None:
    """Full checkout (total, lines, email) for a failed payment; None once Saleor deleted the cart."""
    return client.execute("CheckoutById", {"id": checkout_id}).get("checkout")


def transactions_record(
    *, installation: Installation, client: SaleorClient, nodes: list[dict], polled_at: datetime
) -> PollResult:
    """Put transactions with failures into the inbox, plus the details of their checkouts.

    External calls: ``checkout(id)`` for the checkout of each transaction that changed since we last saw it
    (the total at risk and the shopper's e-mail live there; fetching unchanged ones would run Saleor's
    price calculation for nothing, POLLING.md §8).
    """
    result = PollResult()
    checkouts: set[str] = set()
    for node in nodes:
        tx = _parsed(Transaction, node, installation)
        if tx is None:
            continue
        recorded = _record(
            installation=installation,
            kind=PollKind.TRANSACTIONS,
            event_type=TRANSACTION_POLLED,
            key="transaction",
            object_id=tx.id,
            stamp=transaction_stamp(tx),
            body=node,
            polled_at=polled_at,
            source=EventSource.POLL,
        )
        result.add(recorded)
        if recorded and tx.checkout is not None:
            checkouts.add(tx.checkout.id)
    for checkout_id in sorted(checkouts):
        detail = _checkout_details(client, checkout_id)
        if detail is None:
            continue
        checkout = _parsed(Checkout, detail, installation)
        if checkout is None:
            continue
        _record(
            installation=installation,
            kind=PollKind.CHECKOUTS,
            event_type=CHECKOUT_POLLED,
            key="checkout",
            object_id=checkout.id,
            stamp=checkout_stamp(checkout),
            body=detail,
            polled_at=polled_at,
            source=EventSource.POLL,
        )
    return result


def _lease(installation: Installation, kind: str, now: datetime) -> PollCursor | None:
    """Take the poll lease for (installation, kind) or return None if another poll holds it."""
    cursor, _ = PollCursor.objects.get_or_create(installation=installation, kind=kind)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    taken = PollCursor.objects.filter(free, pk=cursor.pk).update(lease_until=now + LEASE, last_started_at=now)
    if not taken:
        return None
    cursor.refresh_from_db()
    return cursor


def _since(cursor: PollCursor, installation: Installation) -> datetime:
    overlap = timedelta(seconds=support_settings().poll_overlap_seconds)
    return (cursor.since or installation.installed_at) - overlap


def _poll_kind(installation: Installation, client: SaleorClient, kind: str) -> dict:
    started = timezone.now()
    cursor = _lease(installation, kind, started)
    if cursor is None:
        return {"kind": kind, "skipped": "another poll is running"}
    since = _since(cursor, installation)
    try:
        if kind == PollKind.ORDERS:
            result = PollResult()
            for page in orders_changed_pages(client, since=since):
                page_result = orders_record(installation=installation, nodes=page, polled_at=started)
                result.seen += page_result.seen
                result.enqueued += page_result.enqueued
        else:
            nodes = payment_failure_nodes(client, since=since)
            result = transactions_record(installation=installation, client=client, nodes=nodes, polled_at=started)
    except Exception as exc:
        PollCursor.objects.filter(pk=cursor.pk).update(lease_until=None, last_error=str(exc)[:2000])
        raise
    # The watermark moves only after every page succeeded (POLLING.md §9.1.3).
    PollCursor.objects.filter(pk=cursor.pk).update(
        since=started,
        last_success_at=timezone.now(),
        last_error="",
        lease_until=None,
        last_seen=result.seen,
        last_enqueued=result.enqueued,
    )
    return {"kind": kind, "seen": result.seen, "enqueued": result.enqueued}


def installation_poll(*, installation: Installation, client: SaleorClient | None = None) -> dict:
    """Poll payment failures and changed orders for one installation.

    External calls: Saleor ``transactions`` / ``orders`` / ``checkout`` queries (outside any DB
    transaction). Writes: inbox rows (enqueueing their processing on commit) and the PollCursor rows.
    """
    client = client or installation_client(installation=installation)
    return {
        "transactions": _poll_kind(installation, client, PollKind.TRANSACTIONS),
        "orders": _poll_kind(installation, client, PollKind.ORDERS),
    }


def _rules_apply(event: WebhookEvent) -> bool:
    """History imported by `backfill` fills snapshots but must not open cases for long-past problems."""
    return event.source != EventSource.BACKFILL


def _handle_polled_order(event: WebhookEvent) -> None:
    polled = PolledOrder.model_validate_json(event.raw_body)
    result = order_snapshot_apply(
        installation=event.installation, order=polled.order, issued_at=polled.polled_at, source_event=event
    )
    if _rules_apply(event):
        case_rules_on_order(installation=event.installation, order=result.row)


def _handle_polled_transaction(event: WebhookEvent) -> None:
    polled = PolledTransaction.model_validate_json(event.raw_body)
    result = transaction_snapshot_apply(
        installation=event.installation, tx=polled.transaction, issued_at=polled.polled_at, source_event=event
    )
    if _rules_apply(event):
        case_rules_on_transaction(installation=event.installation, tx=result.row)


def _handle_polled_checkout(event: WebhookEvent) -> None:
    polled = PolledCheckout.model_validate_json(event.raw_body)
    result = checkout_snapshot_apply(
        installation=event.installation, checkout=polled.checkout, issued_at=polled.polled_at, source_event=event
    )
    if _rules_apply(event):
        case_rules_on_checkout(installation=event.installation, checkout=result.row)


POLL_HANDLERS: dict[str, Callable[[WebhookEvent], None]] = {
    ORDER_POLLED: _handle_polled_order,
    TRANSACTION_POLLED: _handle_polled_transaction,
    CHECKOUT_POLLED: _handle_polled_checkout,
}
