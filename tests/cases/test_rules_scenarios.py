"""Recorded Saleor scenarios through intake: the right cases open, once, and close themselves.

Webhooks are replayed exactly as Saleor sent them (tests/recordings); what only polling can see is fed in
as the poller would record it (a TRANSACTION_POLLED inbox row built from Saleor's own transaction JSON).
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CaseRule,
    CaseStatus,
    EventSource,
    EventStatus,
    WebhookEvent,
)
from saleor_support_plugin.services.inbox import webhook_event_process, webhook_event_record
from saleor_support_plugin.services.polling import TRANSACTION_POLLED
from tests.fixtures.recordings import post_recorded, recorded, recorded_webhooks


def _post(client, hook):
    response = post_recorded(client, hook)
    assert response.status_code == 200, response.content


def _process() -> None:
    for pk in WebhookEvent.objects.filter(status=EventStatus.RECEIVED).order_by("pk").values_list("pk", flat=True):
        assert webhook_event_process(event_id=pk) == EventStatus.PROCESSED


def _deliver(client, *names: str) -> None:
    for name in names:
        _post(client, recorded(name))
    _process()


def _scenario(name: str) -> list:
    return [h for h in recorded_webhooks() if h.is_ours and h.meta["scenario"] == name]


def _poll_transaction(installation, tx: dict, polled_at, checkout: dict) -> None:
    """Record a transaction as the payment-failure poll would have seen it at ``polled_at``."""
    node = {**tx, "checkout": {"id": checkout["id"], "email": checkout["email"]}, "order": None}
    webhook_event_record(
        installation=installation,
        event_type=TRANSACTION_POLLED,
        raw_body=json.dumps({"polledAt": polled_at.isoformat(), "transaction": node}),
        dedupe_key=hashlib.sha256(json.dumps(node, sort_keys=True).encode()).hexdigest(),
        object_id=tx["id"],
        source=EventSource.POLL,
    )
    _process()


def _tx_as_of(tx: dict, moment: str) -> dict:
    """The transaction with only the events Saleor had written by ``moment``."""
    cutoff = parse_datetime(moment)
    return {**tx, "events": [e for e in tx["events"] if parse_datetime(e["createdAt"]) <= cutoff]}


def test_paid_then_fulfilled_order_opens_no_case(client, recorded_installation):
    for scenario in ("c_paid_order_from_checkout", "c_fulfillment_tracking"):
        for hook in _scenario(scenario):
            _post(client, hook)
    _process()

    assert not Case.objects.exists()


def test_charge_failure_after_success_opens_one_payment_case(client, recorded_installation):
    # given b2: the order was paid, then the same psp reported CHARGE_FAILURE (ORDER_UPDATED)
    for hook in _scenario("b2_order_charge_success_then_failure"):
        _post(client, hook)
    _process()

    # then one payment case is open with the unpaid amount at risk, for the order's customer
    case = Case.objects.get()
    assert (case.rule, case.reason, case.status) == (CaseRule.ORDER_PAYMENT_FAILED, "payment_issue", CaseStatus.NEW)
    assert case.value_at_risk == Decimal("20")
    assert case.customer.email == "mary.major@example.com"
    assert case.order_number == "23"


def test_duplicates_and_reordering_never_open_a_second_case(client, recorded_installation):
    hooks = _scenario("b2_order_charge_success_then_failure") * 3
    random.Random(7).shuffle(hooks)
    for hook in hooks:
        _post(client, hook)
    ids = list(WebhookEvent.objects.values_list("pk", flat=True))
    random.Random(8).shuffle(ids)
    for pk in ids:
        webhook_event_process(event_id=pk)

    assert Case.objects.filter(rule=CaseRule.ORDER_PAYMENT_FAILED).count() == 1


def test_expired_unpaid_order_opens_a_case(client, recorded_installation):
    for hook in _scenario("c_order_expired"):
        _post(client, hook)
    _process()

    case = Case.objects.get()
    assert case.rule == CaseRule.ORDER_EXPIRED_UNPAID
    assert case.value_at_risk == Decimal("20")


def test_checkout_failure_found_by_polling_then_paid_resolves_with_recovered_amount(
    client, recorded_installation, django_capture_on_commit_callbacks
):
    # given a3: the shopper's cart (CHECKOUT_CREATED/UPDATED webhooks) …
    _deliver(client, "CHECKOUT_CREATED-a3_checkout_failure_only.json", "CHECKOUT_UPDATED-a3_checkout_failure_only.json")
    paid = recorded("CHECKOUT_FULLY_PAID-a3_checkout_failure_only.json")
    failed_tx = next(t for t in paid.body["checkout"]["transactions"] if t["chargedAmount"]["amount"] == 0)
    first_failure = min(e["createdAt"] for e in failed_tx["events"])

    # … whose payment failed with no webhook at all, as the poll records it …
    with django_capture_on_commit_callbacks(execute=False):
        _poll_transaction(
            recorded_installation,
            _tx_as_of(failed_tx, failed_tx["modifiedAt"]),
            parse_datetime(first_failure) + timedelta(seconds=5),
            paid.body["checkout"],
        )

    # then a checkout payment case is open with the cart total at risk
    case = Case.objects.get()
    assert (case.rule, case.status, case.value_at_risk) == (CaseRule.CHECKOUT_PAYMENT_FAILED, "new", Decimal("50"))
    assert case.customer.email == "john.roe@example.com"

    # when a second payment succeeds (CHECKOUT_FULLY_PAID)
    _deliver(client, paid.name)

    # then the case resolves itself with the recovered amount, on the timeline
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.recovered_amount == Decimal("50")
    resolved = CaseEvent.objects.get(case=case, type="case_resolved")
    assert resolved.actor_type == "rule" and Decimal(resolved.parameters["recovered_amount"]) == 50


def test_repeated_failures_append_to_the_timeline_of_the_one_case(client, recorded_installation):
    _deliver(client, "CHECKOUT_CREATED-a3_checkout_failure_only.json")
    paid = recorded("CHECKOUT_FULLY_PAID-a3_checkout_failure_only.json")
    failed_tx = next(t for t in paid.body["checkout"]["transactions"] if t["chargedAmount"]["amount"] == 0)
    events = sorted(failed_tx["events"], key=lambda e: e["createdAt"])

    # the poller sees the first failure, then (next poll) the second one
    checkout = paid.body["checkout"]
    _poll_transaction(recorded_installation, {**failed_tx, "events": events[:1]}, timezone.now(), checkout)
    _poll_transaction(recorded_installation, failed_tx, timezone.now() + timedelta(minutes=2), checkout)

    case = Case.objects.get()
    assert CaseEvent.objects.filter(case=case, type="condition_repeated").count() == 1


def test_webhook_only_failure_of_a_checkout_opens_a_case(client, recorded_installation):
    # a: the only failure that fires a webhook (transaction metadata) — after the cart webhooks
    names = [h.name for h in _scenario("a_checkout_payment_failure")]
    _deliver(client, *names)

    case = Case.objects.get()
    assert case.rule == CaseRule.CHECKOUT_PAYMENT_FAILED
    assert case.value_at_risk == Decimal("40")


def test_echo_of_our_own_write_opens_nothing(client, recorded_installation):
    body = json.loads(recorded("ORDER_UPDATED-b2_order_charge_success_then_failure-2.json").raw_body)
    assert body["order"]["chargeStatus"] == "NONE"
    WebhookEvent.objects.create(
        installation=recorded_installation,
        event_type="ORDER_UPDATED",
        dedupe_key="e" * 64,
        raw_body=json.dumps(body),
        is_echo=True,
    )
    _process()

    assert not Case.objects.exists()
