"""After an erasure, Saleor keeps sending the shopper's old orders, checkouts and payments: they stay erased.

Recorded Saleor scenarios (tests/recordings) are replayed through intake. Without the erasure the same
deliveries open a case for the shopper (tests/cases/test_rules_scenarios.py); after it, the snapshots still
follow Saleor's facts but carry nothing of the shopper, no case opens and the inbox keeps no body.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils.dateparse import parse_datetime

from saleor_support_plugin.models import (
    Case,
    CaseRule,
    CheckoutSnapshot,
    Customer,
    ErasedObject,
    EventSource,
    EventStatus,
    OrderSnapshot,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.services.gdpr import customer_data_erase
from saleor_support_plugin.services.gdpr_snapshots import ERASED, ERASED_BODY
from saleor_support_plugin.services.inbox import webhook_event_process, webhook_event_record
from saleor_support_plugin.services.polling import ORDER_POLLED
from tests.fixtures.recordings import post_recorded, recorded, recorded_webhooks
from tests.gdpr.conftest import ANA, STAFF
from tests.webhooks.test_registry import OWN_PAYLOADS

MARY = "mary.major@example.com"  # b2: her order was paid, then Saleor reported a charge failure
JANE = "jane.doe@example.com"  # a: her checkout's payment failed (only a transaction webhook says so)
STREET = "1470 Pleasant St"  # the shipping address of every recorded order and checkout
B2 = "b2_order_charge_success_then_failure"
B2_FAILURE = "ORDER_UPDATED-b2_order_charge_success_then_failure-2.json"
A_FAILURE = (
    "CHECKOUT_FULLY_PAID-a_checkout_payment_failure.json",
    "TRANSACTION_ITEM_METADATA_UPDATED-a_checkout_payment_failure.json",
)


def _scenario(name: str) -> list:
    return [h for h in recorded_webhooks() if h.is_ours and h.meta["scenario"] == name]


def _process() -> list[WebhookEvent]:
    rows = list(WebhookEvent.objects.filter(status=EventStatus.RECEIVED).order_by("pk"))
    for row in rows:
        assert webhook_event_process(event_id=row.pk) == EventStatus.PROCESSED
    return [WebhookEvent.objects.get(pk=row.pk) for row in rows]


def _deliver(client, *hooks) -> list[WebhookEvent]:
    for hook in hooks:
        assert post_recorded(client, hook).status_code == 200
    return _process()


def _record(installation, event_type: str, body: dict, object_id: str, **kw) -> None:
    raw = json.dumps(body)
    webhook_event_record(
        installation=installation,
        event_type=event_type,
        raw_body=raw,
        dedupe_key=hashlib.sha256(raw.encode()).hexdigest(),
        object_id=object_id,
        **kw,
    )


def _saleor_deletes_customer(installation, email: str) -> None:
    """Saleor's CUSTOMER_DELETED for ``email``, as intake would have stored it."""
    body = json.loads((OWN_PAYLOADS / "CUSTOMER_DELETED.json").read_text()) | {
        "user": {"id": "VXNlcjo5", "email": email}
    }
    _record(installation, "CUSTOMER_DELETED", body, "VXNlcjo5")
    _process()


def _mentions(model, needle: str) -> bool:
    return needle.lower() in json.dumps(list(model.objects.values()), default=str).lower()


def test_later_order_update_keeps_the_facts_but_not_the_shopper(client, recorded_installation):
    # given Mary's paid order, and then Saleor deleted her account (the order stays in Saleor for accounting)
    _deliver(client, *(h for h in _scenario(B2) if h.name != B2_FAILURE))
    order_id = recorded(B2_FAILURE).body["order"]["id"]
    before = OrderSnapshot.objects.get(saleor_id=order_id)
    assert (before.user_email, before.charge_status, before.shipping_address["streetAddress1"]) == (
        MARY,
        "FULL",
        STREET,
    )
    _saleor_deletes_customer(recorded_installation, MARY)

    # when Saleor reports the charge failure on that old order (this opens a payment case for a live shopper)
    [late] = _deliver(client, recorded(B2_FAILURE))

    # then the snapshot has Saleor's new state, erased as the erasure left it
    order = OrderSnapshot.objects.get(saleor_id=order_id)
    assert (order.status, order.charge_status, order.source_event_id) == ("UNFULFILLED", "NONE", late.pk)
    assert (order.user_email, order.saleor_user_id, order.shipping_address) == ("", "", {})
    assert not _mentions(OrderSnapshot, MARY) and not _mentions(OrderSnapshot, STREET)
    # no shopper, no case, no body
    assert not Customer.objects.filter(email=MARY).exists()
    assert not Case.objects.exists()
    assert late.raw_body == ERASED_BODY
    assert not _mentions(WebhookEvent, MARY)


@pytest.mark.parametrize("erased", [False, True], ids=["live shopper", "erased shopper"])
def test_polled_order_of_an_erased_shopper_opens_no_case(client, recorded_installation, erased):
    # given Mary's paid order
    paid = recorded("ORDER_FULLY_PAID-b2_order_charge_success_then_failure.json")
    _deliver(client, paid)
    if erased:
        customer_data_erase(installation=recorded_installation, email=MARY, actor=STAFF)

    # when the poll finds it cancelled without refund, with a note by Mary naming her (Jane Doe ships it)
    node = dict(paid.body["order"])
    later = parse_datetime(node["updatedAt"]) + timedelta(hours=1)
    note = {
        "id": "T3JkZXJFdmVudDo5OQ==",
        "type": "NOTE_ADDED",
        "date": later.isoformat(),
        "message": "Jane Doe: cancel",
    }
    node |= {"status": "CANCELED", "updatedAt": later.isoformat(), "metadata": [{"key": "by", "value": MARY}]}
    staff_note = note | {"id": "T3JkZXJFdmVudDoxMDA=", "message": "ok", "user": {"email": "admin@example.com"}}
    node["events"] = [*node["events"], note | {"user": {"email": MARY}}, staff_note]
    body = {"polledAt": (later + timedelta(minutes=1)).isoformat(), "order": node}
    _record(recorded_installation, ORDER_POLLED, body, node["id"], source=EventSource.POLL)
    [polled] = _process()

    # then
    order = OrderSnapshot.objects.get(saleor_id=node["id"])
    assert order.status == "CANCELED"
    if not erased:
        assert Case.objects.get().rule == CaseRule.CANCELLED_WITHOUT_REFUND
        assert order.user_email == MARY and polled.raw_body != ERASED_BODY
        return
    assert not Case.objects.exists() and not Customer.objects.exists()
    assert (order.user_email, order.shipping_address, order.metadata) == ("", {}, {"by": ERASED})
    assert [(e["message"], (e.get("user") or {}).get("email")) for e in order.events[-2:]] == [
        (ERASED, ERASED),
        ("ok", "admin@example.com"),  # staff keep theirs: they are not the subject
    ]
    assert not _mentions(OrderSnapshot, MARY) and not _mentions(OrderSnapshot, "jane doe")
    assert polled.raw_body == ERASED_BODY


def test_later_checkout_and_payment_updates_stay_erased_and_open_no_case(client, recorded_installation):
    # given Jane's cart, then staff erased her
    scenario = [h for h in _scenario("a_checkout_payment_failure") if h.name not in A_FAILURE]
    _deliver(client, *scenario)
    checkout_id = recorded(A_FAILURE[0]).body["checkout"]["id"]
    assert CheckoutSnapshot.objects.get(saleor_id=checkout_id).email == JANE
    customer_data_erase(installation=recorded_installation, email=JANE, actor=STAFF)

    # when her payment fails and the cart is paid (webhooks that open a payment case for a live shopper)
    rows = _deliver(client, *(recorded(name) for name in A_FAILURE))

    # then the checkout and its new transaction follow Saleor, with nothing of Jane
    checkout = CheckoutSnapshot.objects.get(saleor_id=checkout_id)
    assert (checkout.charge_status, checkout.email, checkout.saleor_user_id, checkout.shipping_address) == (
        "FULL",
        "",
        "",
        {},
    )
    tx_id = recorded(A_FAILURE[1]).body["transaction"]["id"]
    assert TransactionSnapshot.objects.get(saleor_id=tx_id).checkout_saleor_id == checkout_id
    # the transaction, first seen after the erasure, belongs to the erased checkout
    assert set(ErasedObject.objects.values_list("kind", "saleor_id")) == {
        ("checkout", checkout_id),
        ("transaction", tx_id),
    }
    assert not Case.objects.exists()
    assert not Customer.objects.filter(email=JANE).exists()
    assert [row.raw_body for row in rows] == [ERASED_BODY, ERASED_BODY]
    assert not _mentions(CheckoutSnapshot, JANE) and not _mentions(WebhookEvent, JANE)


def test_a_new_order_after_the_erasure_is_new_data(client, recorded_installation):
    # given Mary's old order, erased
    old = dict(recorded("ORDER_CREATED-b2_order_charge_success_then_failure.json").body)
    old["order"] = old["order"] | {"id": "T3JkZXI6b2xkLW9yZGVy", "transactions": []}
    _record(recorded_installation, "ORDER_CREATED", old, old["order"]["id"])
    _process()
    customer_data_erase(installation=recorded_installation, email=MARY, actor=STAFF)

    # when she orders again and her new order's payment fails
    rows = _deliver(client, *_scenario(B2))

    # then the new order is hers, and so is its case
    new_id = recorded(B2_FAILURE).body["order"]["id"]
    assert OrderSnapshot.objects.get(saleor_id=new_id).user_email == MARY
    assert OrderSnapshot.objects.get(saleor_id=old["order"]["id"]).user_email == ""
    case = Case.objects.get()
    assert (case.rule, case.order_saleor_id, case.customer.email) == (CaseRule.ORDER_PAYMENT_FAILED, new_id, MARY)
    assert list(ErasedObject.objects.values_list("saleor_id", flat=True)) == [old["order"]["id"]]
    assert all(MARY in row.raw_body for row in rows)


def test_erasing_twice_keeps_one_tombstone_per_object(shop):
    # given
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)
    first = list(ErasedObject.objects.order_by("pk").values())

    # when
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    # then
    assert list(ErasedObject.objects.order_by("pk").values()) == first
    assert {(row["kind"], row["saleor_id"]) for row in first} == {
        ("order", "O-ana"),
        ("checkout", "C-ana"),
        ("transaction", "TX-ana"),
    }  # not Bob's order, and not Ana's user id (account events have no snapshot)
    assert {row["installation_id"] for row in first} == {shop.installation.pk}


def test_a_row_pending_during_the_erasure_is_erased_when_its_worker_is_done(shop):
    # given an ORDER_UPDATED with Ana's address still waiting in the inbox while she is erased
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)
    assert ANA in WebhookEvent.objects.get(pk=shop.pending_event.pk).raw_body

    # when its worker gets to it
    status = webhook_event_process(event_id=shop.pending_event.pk)

    # then the order took the update but stays erased, and the body is gone
    assert status == EventStatus.PROCESSED
    order = OrderSnapshot.objects.get(installation=shop.installation, saleor_id="O-ana")
    assert (order.user_email, order.shipping_address) == ("", {})
    assert WebhookEvent.objects.get(pk=shop.pending_event.pk).raw_body == ERASED_BODY
