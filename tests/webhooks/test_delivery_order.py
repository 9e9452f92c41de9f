"""At-least-once, unordered delivery: duplicates and shuffles must give one row per event and the final state.

Expected final states come from Saleor's own answers in scenarios.json and the lab README
(tests/recordings), e.g. step 30 `orderCancel` → CANCELED, step 50 return → PARTIALLY_RETURNED.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from saleor_support_plugin.models import (
    EventStatus,
    OrderSnapshot,
    TransactionEventRecord,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.services.inbox import webhook_event_process
from tests.fixtures.recordings import post_recorded, recorded, recorded_webhooks


@pytest.fixture
def client(intake_client):
    return intake_client


def _post(client, hook):
    return post_recorded(client, hook)


def _ours():
    return [h for h in recorded_webhooks() if h.is_ours]


def _order_id(scenario: str) -> str:
    return next(h.body["order"]["id"] for h in _ours() if h.meta["scenario"] == scenario and "order" in h.body)


def _process_all(seed: int) -> None:
    ids = list(WebhookEvent.objects.filter(status=EventStatus.RECEIVED).values_list("pk", flat=True))
    random.Random(seed).shuffle(ids)
    for pk in ids:
        webhook_event_process(event_id=pk)


# (scenario, expected order fields) — each line is what Saleor reported last for that order.
FINAL_ORDERS = [
    ("c_order_cancel", {"status": "CANCELED"}),  # step 30 orderCancel response
    ("c_order_expired", {"status": "EXPIRED", "charge_status": "NONE"}),  # README: expire task → EXPIRED
    ("c_fulfillment_tracking", {"status": "FULFILLED", "has_tracking": True}),  # step 15/16
    ("b2_order_charge_success_then_failure", {"status": "UNFULFILLED", "charge_status": "NONE", "is_paid": False}),
    ("d_grant_refund", {"total_refunded": Decimal("50")}),  # step 23 REFUND_SUCCESS 50
    # step 50 return → PARTIALLY_RETURNED; the same order then got a 20 USD refund (step 53 response)
    ("d_return_with_refund", {"status": "PARTIALLY_RETURNED", "total_refunded": Decimal("20")}),
    ("d_refund_sync_success", {"total_refunded": Decimal("20")}),  # README d_refund_sync_success
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_and_tripled_delivery_gives_one_row_per_event_and_the_final_state(client, recorded_installation, seed):
    # given every recorded event of our app, each delivered three times, in a random order
    deliveries = _ours() * 3
    random.Random(seed).shuffle(deliveries)

    # when they arrive over HTTP and are processed in another random order
    statuses = [_post(client, hook).status_code for hook in deliveries]
    _process_all(seed)

    # then Saleor got 2xx every time, we keep one row per distinct event, and all were processed
    assert set(statuses) == {200}
    assert WebhookEvent.objects.count() == len(_ours())
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {EventStatus.PROCESSED}
    # and each order ends in the state Saleor last reported
    for scenario, expected in FINAL_ORDERS:
        snapshot = OrderSnapshot.objects.get(installation=recorded_installation, saleor_id=_order_id(scenario))
        actual = {field: getattr(snapshot, field) for field in expected}
        assert actual == expected, scenario


def test_later_failure_wins_over_earlier_full_payment_delivered_after_it(client, recorded_installation):
    # given b2: the order was fully paid, then the same psp reported CHARGE_FAILURE (ORDER_UPDATED)
    paid = recorded("ORDER_FULLY_PAID-b2_order_charge_success_then_failure.json")
    failed = recorded("ORDER_UPDATED-b2_order_charge_success_then_failure-2.json")
    assert failed.body["order"]["chargeStatus"] == "NONE"

    # when Saleor's retry delivers the older "fully paid" payload after the failure
    for hook in (failed, paid):
        assert _post(client, hook).status_code == 200
    _process_all(seed=0)

    # then the snapshot shows the payment as failed, with the failure event on record
    order = OrderSnapshot.objects.get(saleor_id=failed.body["order"]["id"])
    assert (order.charge_status, order.is_paid, order.total_charged) == ("NONE", False, Decimal("0"))
    tx = TransactionSnapshot.objects.get(order_saleor_id=order.saleor_id)
    assert tx.charged_amount == Decimal("0")
    assert TransactionEventRecord.objects.filter(transaction_saleor_id=tx.saleor_id, type="CHARGE_FAILURE").exists()


def test_duplicate_delivery_is_acknowledged_without_a_second_row_or_task(
    client, recorded_installation, django_capture_on_commit_callbacks
):
    hook = recorded("ORDER_CREATED-c_paid_order_from_checkout.json")

    # when Saleor delivers the same request three times (e.g. our answer was slower than its timeout)
    with django_capture_on_commit_callbacks() as callbacks:
        answers = [_post(client, hook) for _ in range(3)]

    # then all three are 2xx, only the first is new, and only it kicks the drain (after commit)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    assert WebhookEvent.objects.count() == 1
    assert len(callbacks) == 1


def test_processing_the_same_row_twice_is_harmless(client, recorded_installation):
    hook = recorded("ORDER_CREATED-c_paid_order_from_checkout.json")
    _post(client, hook)
    event = WebhookEvent.objects.get()

    # when a redelivered task runs after the first one finished
    first = webhook_event_process(event_id=event.pk)
    second = webhook_event_process(event_id=event.pk)

    # then the second run does nothing
    assert (first, second) == (EventStatus.PROCESSED, None)
    event.refresh_from_db()
    assert event.attempts == 1
    assert OrderSnapshot.objects.count() == 1


def test_failure_events_from_checkout_transaction_metadata_are_recorded(client, recorded_installation):
    # given the only webhook a checkout payment failure can produce (transaction metadata was reported)
    hook = recorded("TRANSACTION_ITEM_METADATA_UPDATED-a_checkout_payment_failure.json")
    _post(client, hook)
    _process_all(seed=0)

    # then its failure events are on record, linked to the checkout
    tx_id = hook.body["transaction"]["id"]
    types = set(TransactionEventRecord.objects.filter(transaction_saleor_id=tx_id).values_list("type", flat=True))
    assert {"CHARGE_FAILURE", "AUTHORIZATION_FAILURE"} <= types
    assert (
        TransactionSnapshot.objects.get(saleor_id=tx_id).checkout_saleor_id
        == hook.body["transaction"]["checkout"]["id"]
    )
