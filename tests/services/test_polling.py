"""Polling pulls what Saleor never sends as a webhook (POLLING.md §1-§4, §9) into the same inbox.

The poller talks real HTTP to FakeSaleor, which validates every document against Saleor's schema and
answers from real recorded Saleor objects; the inbox rows are then processed as the worker would.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from saleor_support_plugin.errors import PermanentError, RetryableError
from saleor_support_plugin.models import (
    CheckoutSnapshot,
    EventSource,
    EventStatus,
    OrderSnapshot,
    PollCursor,
    TransactionEventRecord,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.models.polling import PollKind
from saleor_support_plugin.services.inbox import webhook_event_process
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.polling import (
    CHECKOUT_POLLED,
    ORDER_POLLED,
    TRANSACTION_POLLED,
    installation_poll,
)
from tests.conftest import make_installation
from tests.fixtures import signing
from tests.fixtures.recordings import RECORDED_APP_ID, recorded, recorded_webhooks
from tests.fixtures.saleor_store import global_id, iso, order_like, parse_dt, shift_timestamps, transaction_like

TOKEN = "poll-app-token"
FAILED_TX = "TRANSACTION_ITEM_METADATA_UPDATED-a_checkout_payment_failure.json"
FAILED_CHECKOUT = "CHECKOUT_FULLY_PAID-a_checkout_payment_failure.json"


@pytest.fixture
def saleor(fake_saleor):
    fake_saleor.add_app(TOKEN, RECORDED_APP_ID)
    return fake_saleor


@pytest.fixture
def installation(db, saleor):
    return make_installation(api_url=saleor.api_url, token=TOKEN, jwks=signing.test_jwks())


def poll(installation) -> dict:
    return installation_poll(installation=installation, client=installation_client(installation=installation))


def process_inbox() -> list[str]:
    pending = WebhookEvent.objects.filter(status=EventStatus.RECEIVED).order_by("pk").values_list("pk", flat=True)
    return [webhook_event_process(event_id=pk) for pk in list(pending)]


def rows(event_type: str) -> int:
    return WebhookEvent.objects.filter(event_type=event_type).count()


def cursor(installation, kind: str) -> PollCursor:
    return PollCursor.objects.get(installation=installation, kind=kind)


def start_cursor(installation, kind: str, since) -> None:
    PollCursor.objects.update_or_create(installation=installation, kind=kind, defaults={"since": since})


def failed_checkout(saleor, *, at):
    """The lab's checkout whose card was declined (no webhook fired for the failures), declined at ``at``."""
    tx = recorded(FAILED_TX).body["transaction"]
    shift = at - parse_dt(tx["modifiedAt"])
    checkout = saleor.put_checkout(shift_timestamps(recorded(FAILED_CHECKOUT).body["checkout"], shift))
    return checkout, saleor.put_transaction(shift_timestamps(tx, shift))  # its `checkout` ref links it


def order_template() -> dict:
    return recorded("ORDER_UPDATED-c_paid_order_from_checkout.json").body["order"]


def recorded_order_id(scenario: str) -> str:
    hooks = recorded_webhooks()
    return next(h.body["order"]["id"] for h in hooks if h.meta["scenario"] == scenario and "order" in h.body)


def test_checkout_card_decline_without_webhook_becomes_known(saleor, installation):
    # given a shopper's card was declined a minute ago on a checkout; Saleor sent no webhook for it
    checkout, tx = failed_checkout(saleor, at=timezone.now() - timedelta(minutes=1))

    # when we poll and the worker processes the inbox
    result = poll(installation)
    statuses = process_inbox()

    # then the failed transaction and its checkout were pulled into the inbox as polled events
    assert result["transactions"] == {"kind": "transactions", "seen": 1, "enqueued": 1}
    polled = WebhookEvent.objects.get(event_type=TRANSACTION_POLLED)
    assert (polled.object_id, polled.source) == (tx["id"], EventSource.POLL)
    assert rows(CHECKOUT_POLLED) == 1
    assert set(statuses) == {EventStatus.PROCESSED}
    # and every decline is a fact we can open a case on, keyed by Saleor's event id
    declines = TransactionEventRecord.objects.filter(installation=installation, type="CHARGE_FAILURE")
    assert {(e.message, e.amount, e.transaction_saleor_id) for e in declines} == {
        ("Card declined: insufficient funds", Decimal("40"), tx["id"]),
        ("Card declined again", Decimal("40"), tx["id"]),
    }
    assert TransactionEventRecord.objects.filter(type="AUTHORIZATION_FAILURE").count() == 1
    # and we know whose cart it was and what it was worth
    snapshot = CheckoutSnapshot.objects.get(installation=installation, saleor_id=checkout["id"])
    assert (snapshot.total_gross, snapshot.currency, snapshot.email) == (Decimal("40"), "USD", "jane.doe@example.com")
    assert TransactionSnapshot.objects.get(saleor_id=tx["id"]).checkout_saleor_id == checkout["id"]
    assert saleor.operations() == ["PollPaymentFailures", "CheckoutById", "PollOrders"]


def test_polling_again_finds_nothing_new(saleor, installation):
    # given a decline that was already polled and processed
    failed_checkout(saleor, at=timezone.now() - timedelta(minutes=1))
    poll(installation)
    process_inbox()
    inbox, facts = WebhookEvent.objects.count(), TransactionEventRecord.objects.count()

    # when the next poll sees the same transaction again (it is still inside the overlap)
    result = poll(installation)

    # then nothing new enters the inbox and nothing is counted twice
    assert result["transactions"] == {"kind": "transactions", "seen": 1, "enqueued": 0}
    assert WebhookEvent.objects.count() == inbox
    assert process_inbox() == []
    assert TransactionEventRecord.objects.count() == facts


def test_overlapping_window_counts_each_new_decline_once(saleor, installation):
    # given a polled and processed decline
    checkout, tx = failed_checkout(saleor, at=timezone.now() - timedelta(minutes=2))
    poll(installation)
    process_inbox()
    # and the card is declined once more on the same transaction
    newest = tx["events"][0]
    retry = {**newest, "id": global_id("TransactionEvent", 999), "message": "Declined (retry)"}
    retry["createdAt"] = iso(timezone.now())
    saleor.put_transaction({**tx, "modifiedAt": retry["createdAt"], "events": [retry, *tx["events"]]})
    # and an operator re-polls the last hour, overlapping everything already seen
    start_cursor(installation, PollKind.TRANSACTIONS, timezone.now() - timedelta(hours=1))

    # when we poll twice and process
    first, second = poll(installation), poll(installation)
    process_inbox()

    # then the changed transaction was enqueued once, and only the new decline was added
    assert (first["transactions"]["enqueued"], second["transactions"]["enqueued"]) == (1, 0)
    declines = TransactionEventRecord.objects.filter(type="CHARGE_FAILURE")
    assert sorted(declines.values_list("message", flat=True)) == [
        "Card declined again",
        "Card declined: insufficient funds",
        "Declined (retry)",
    ]


@pytest.mark.parametrize(
    ("modified", "event_at", "found_by"),
    [
        (timedelta(days=-2), timedelta(0), "byEvent"),  # Saleor wrote the failure itself (§3: E1, E2, E4)
        (timedelta(0), timedelta(days=-20), "byModified"),  # the app back-dated its report with `time` (§1)
    ],
    ids=["failure-without-modifiedAt", "back-dated-failure"],
)
def test_failures_that_move_only_one_timestamp_are_found(saleor, installation, modified, event_at, found_by):
    # given a failure that moved only one of the two timestamps POLLING.md warns about
    now = timezone.now()
    tx = transaction_like(recorded(FAILED_TX).body["transaction"], at=now - timedelta(days=3))
    failure = {**tx["events"][0], "id": global_id("TransactionEvent", 4242), "createdAt": iso(now + event_at)}
    saleor.put_transaction({**tx, "modifiedAt": iso(now + modified), "events": [failure, *tx["events"]]})

    # when we poll
    poll(installation)
    process_inbox()

    # then it is found and becomes a fact
    assert rows(TRANSACTION_POLLED) == 1
    assert TransactionEventRecord.objects.filter(saleor_id=failure["id"], type="CHARGE_FAILURE").exists()
    # and only one of the two aliases could see it: dropping either would lose failures
    variables = next(v for op, v, _ in saleor.requests if op == "PollPaymentFailures")
    answer = installation_client(installation=installation).execute("PollPaymentFailures", variables)
    assert {alias: len(answer[alias]["edges"]) for alias in ("byModified", "byEvent")} == {
        found_by: 1,
        ({"byModified", "byEvent"} - {found_by}).pop(): 0,
    }


def test_cursor_moves_only_after_every_page_succeeded(saleor, installation):
    # given 150 orders changed in the last minutes (two pages) and Saleor failing on page 2
    base = timezone.now() - timedelta(minutes=3)
    for i in range(150):
        saleor.put_order(order_like(order_template(), number=1000 + i, updated_at=base + timedelta(milliseconds=i)))
    saleor.fail_next(1, status=500, operation="PollOrders", skip=1)

    # when the poll runs
    with pytest.raises(RetryableError):
        poll(installation)

    # then the orders cursor did not move, the error is visible and the lease is free for the retry
    orders_cursor = cursor(installation, PollKind.ORDERS)
    assert orders_cursor.since is None
    assert "500" in orders_cursor.last_error
    assert orders_cursor.lease_until is None
    assert rows(ORDER_POLLED) == 100  # page 1 is safely in the inbox

    # when the retry runs
    before = timezone.now()
    result = poll(installation)

    # then it sees all 150, enqueues only the 50 it had missed, and only now moves the cursor
    assert result["orders"] == {"kind": "orders", "seen": 150, "enqueued": 50}
    assert rows(ORDER_POLLED) == 150
    orders_cursor.refresh_from_db()
    assert orders_cursor.since >= before
    assert orders_cursor.last_error == ""


def test_pagination_reaches_every_changed_order_and_failed_transaction(saleor, installation):
    # given 250 orders and 130 failed transactions changed in the last minutes (more than a page of 100)
    base = timezone.now() - timedelta(minutes=3)
    template = recorded(FAILED_TX).body["transaction"]
    orders = [
        saleor.put_order(order_like(order_template(), number=2000 + i, updated_at=base + timedelta(milliseconds=i)))
        for i in range(250)
    ]
    txs = [saleor.put_transaction(transaction_like(template, at=base + timedelta(seconds=i))) for i in range(130)]

    # when we poll
    result = poll(installation)

    # then every object reached the inbox exactly once
    assert (result["orders"]["enqueued"], result["transactions"]["enqueued"]) == (250, 130)
    polled = WebhookEvent.objects.values_list("event_type", "object_id")
    assert sorted(polled) == sorted(
        [(ORDER_POLLED, o["id"]) for o in orders] + [(TRANSACTION_POLLED, t["id"]) for t in txs]
    )
    # and each page asked for what follows the previous one
    order_pages = [v for op, v, _ in saleor.requests if op == "PollOrders"]
    assert [bool(v["after"]) for v in order_pages] == [False, True, True]
    failure_pages = [v for op, v, _ in saleor.requests if op == "PollPaymentFailures"]
    assert len(failure_pages) == 2
    assert failure_pages[1]["afterModified"] and failure_pages[1]["afterEvent"]


def test_poll_skips_a_kind_another_poll_is_running(saleor, installation):
    # given another worker holds the orders poll lease
    PollCursor.objects.create(
        installation=installation, kind=PollKind.ORDERS, lease_until=timezone.now() + timedelta(minutes=4)
    )

    # when a second poll starts
    result = poll(installation)

    # then it leaves orders alone and still polls payment failures
    assert result["orders"] == {"kind": "orders", "skipped": "another poll is running"}
    assert saleor.operations() == ["PollPaymentFailures"]
    assert cursor(installation, PollKind.ORDERS).since is None

    # when the lease has expired (its holder died)
    PollCursor.objects.filter(installation=installation).update(lease_until=timezone.now() - timedelta(seconds=1))
    result = poll(installation)

    # then the next poll takes over
    assert result["orders"]["kind"] == "orders" and "skipped" not in result["orders"]


def test_refused_poll_keeps_the_cursor_and_shows_the_error(saleor, installation):
    # given Saleor refuses the failure poll (e.g. the app lost MANAGE_ORDERS)
    saleor.graphql_error_next(
        "To access this path, you need one of the following permissions: MANAGE_ORDERS", operation="PollPaymentFailures"
    )

    # when we poll
    with pytest.raises(PermanentError):
        poll(installation)

    # then nothing moved and the reason is stored for the operator
    tx_cursor = cursor(installation, PollKind.TRANSACTIONS)
    assert tx_cursor.since is None
    assert "MANAGE_ORDERS" in tx_cursor.last_error
    assert tx_cursor.lease_until is None


# Each line is what Saleor reported last for that order (tests/recordings README; see test_delivery_order.py).
FINAL_ORDERS = [
    ("c_order_cancel", {"status": "CANCELED"}),
    ("c_order_expired", {"status": "EXPIRED", "charge_status": "NONE"}),
    ("c_fulfillment_tracking", {"status": "FULFILLED", "has_tracking": True}),
    ("b2_order_charge_success_then_failure", {"status": "UNFULFILLED", "charge_status": "NONE", "is_paid": False}),
    ("d_grant_refund", {"total_refunded": Decimal("50")}),
]


def test_changed_orders_are_polled_into_snapshots_with_their_final_state(saleor, installation):
    # given Saleor holds the lab's orders, all changed within the last minutes
    saleor.load_recordings(end_at=timezone.now() - timedelta(minutes=1))
    start_cursor(installation, PollKind.ORDERS, timezone.now() - timedelta(hours=1))
    start_cursor(installation, PollKind.TRANSACTIONS, timezone.now() - timedelta(hours=1))

    # when we poll and process
    result = poll(installation)
    statuses = process_inbox()

    # then each order arrived once as a polled event and became a snapshot in its final state
    assert result["orders"] == {"kind": "orders", "seen": 10, "enqueued": 10}
    assert set(statuses) == {EventStatus.PROCESSED}
    assert OrderSnapshot.objects.filter(installation=installation).count() == 10
    for scenario, expected in FINAL_ORDERS:
        snapshot = OrderSnapshot.objects.get(installation=installation, saleor_id=recorded_order_id(scenario))
        assert {field: getattr(snapshot, field) for field in expected} == expected, scenario
    # and the unpaid order's declines, which fired no webhook (README §b), are known too
    cancelled = OrderSnapshot.objects.get(saleor_id=recorded_order_id("c_order_cancel"))
    tx_ids = TransactionSnapshot.objects.filter(order_saleor_id=cancelled.saleor_id).values_list("saleor_id", flat=True)
    assert TransactionEventRecord.objects.filter(transaction_saleor_id__in=tx_ids, type="CHARGE_FAILURE").exists()


def _deliver(post_signed, saleor, name: str) -> None:
    response = post_signed(name.split("-")[0], recorded(name).body, api_url=saleor.api_url)
    assert response.status_code == 200, response.content


def test_webhook_and_poll_of_the_same_state_converge(saleor, installation, post_signed):
    # given the ORDER_UPDATED webhook for a cancelled order arrived and was processed
    _deliver(post_signed, saleor, "ORDER_UPDATED-c_order_cancel.json")
    process_inbox()
    before = OrderSnapshot.objects.get()
    # and Saleor still shows exactly that state when we poll
    order = saleor.put_order(recorded("ORDER_UPDATED-c_order_cancel.json").body["order"])
    start_cursor(installation, PollKind.ORDERS, parse_dt(order["updatedAt"]))

    # when the poll brings the same order in
    poll(installation)
    statuses = process_inbox()

    # then there is still one snapshot, in the same state, now stamped by the poll
    assert statuses and set(statuses) == {EventStatus.PROCESSED}
    after = OrderSnapshot.objects.get()
    assert (after.pk, after.status, after.version_stamp) == (before.pk, "CANCELED", before.version_stamp)
    assert after.source_event.event_type == ORDER_POLLED


@pytest.mark.parametrize("poll_first", [True, False], ids=["poll-then-webhook", "webhook-then-poll"])
def test_older_polled_state_never_overwrites_a_newer_webhook(saleor, installation, post_signed, poll_first):
    # given Saleor's poll answer still shows the order before it was cancelled (rendered earlier)
    older = saleor.put_order(recorded("ORDER_CONFIRMED-b_order_payment_failure.json").body["order"])
    start_cursor(installation, PollKind.ORDERS, parse_dt(older["updatedAt"]))

    # when the poll and the cancel webhook are processed in either order
    if poll_first:
        poll(installation)
        process_inbox()
        _deliver(post_signed, saleor, "ORDER_CANCELLED-c_order_cancel.json")
    else:
        _deliver(post_signed, saleor, "ORDER_CANCELLED-c_order_cancel.json")
        process_inbox()
        poll(installation)
    process_inbox()

    # then the snapshot shows the newest state, whatever arrived last
    assert rows(ORDER_POLLED) == 1
    assert OrderSnapshot.objects.get().status == "CANCELED"
