"""Delays have no Saleor event: the delay scan finds them from our snapshots and their deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from saleor_support_plugin.models import Case, CaseRule, CaseStatus, OrderSnapshot, RuleSetting
from saleor_support_plugin.services.case_rules import case_rules_on_order, delay_scan

# Monday 2026-11-16 10:00 UTC; the default calendar works Mon–Fri 09:00–17:00 UTC.
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def _order(installation, **fields) -> OrderSnapshot:
    defaults = {
        "saleor_id": "T3JkZXI6MQ==",
        "number": "101",
        "status": "UNFULFILLED",
        "charge_status": "FULL",
        "currency": "USD",
        "user_email": "ana@example.com",
        "total_gross": Decimal("80"),
        "total_charged": Decimal("80"),
        "paid_at": MONDAY_10,
        "saleor_updated_at": MONDAY_10,
        "version_stamp": MONDAY_10,
        "version_issued_at": MONDAY_10,
    }
    return OrderSnapshot.objects.create(installation=installation, **{**defaults, **fields})


def _evaluate(installation, order, now):
    case_rules_on_order(installation=installation, order=order, now=now)
    order.refresh_from_db()


def test_paid_order_not_shipped_within_48_business_hours_opens_one_case(test_installation):
    # given an order paid Monday 10:00: 48 business hours (6 days of 8 h) end next Tuesday 10:00
    order = _order(test_installation)
    _evaluate(test_installation, order, MONDAY_10)
    assert order.delay_check_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert not Case.objects.exists()

    # when the scan runs before and after that deadline
    assert delay_scan(now=datetime(2026, 11, 24, 9, 59, tzinfo=UTC)) == 0
    assert delay_scan(now=datetime(2026, 11, 24, 10, 1, tzinfo=UTC)) == 1
    delay_scan(now=datetime(2026, 11, 24, 11, 0, tzinfo=UTC))

    # then exactly one fulfilment-delay case exists and the order needs no further scan
    case = Case.objects.get()
    assert (case.rule, case.reason, case.order_number) == (CaseRule.FULFILLMENT_DELAY, "delivery_delay", "101")
    order.refresh_from_db()
    assert order.delay_check_at is None


def test_shipping_resolves_the_fulfilment_delay_case(test_installation):
    order = _order(test_installation)
    _evaluate(test_installation, order, MONDAY_10 + timedelta(days=10))
    assert Case.objects.get().status == CaseStatus.NEW

    OrderSnapshot.objects.filter(pk=order.pk).update(
        status="FULFILLED",
        fulfillments=[
            {"id": "f1", "status": "FULFILLED", "trackingNumber": "1Z9", "created": "2026-11-26T10:00:00+00:00"}
        ],
        first_fulfilled_at=MONDAY_10 + timedelta(days=10),
        has_tracking=True,
    )
    order.refresh_from_db()
    _evaluate(test_installation, order, MONDAY_10 + timedelta(days=10, hours=1))

    assert Case.objects.get().status == CaseStatus.RESOLVED


def test_threshold_and_opt_out_are_per_installation(test_installation):
    RuleSetting.objects.create(installation=test_installation, rule=CaseRule.FULFILLMENT_DELAY, threshold=8)
    order = _order(test_installation)
    _evaluate(test_installation, order, MONDAY_10)
    assert order.delay_check_at == datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # 8 business hours later

    RuleSetting.objects.filter(installation=test_installation).update(enabled=False)
    _evaluate(test_installation, order, MONDAY_10 + timedelta(days=3))
    assert not Case.objects.exists()
    assert order.delay_check_at is None


def test_shipment_without_tracking_number_becomes_a_delivery_delay(test_installation):
    shipped = "2026-11-16T12:00:00+00:00"
    order = _order(
        test_installation,
        status="FULFILLED",
        fulfillments=[
            {"id": "f1", "fulfillmentOrder": 1, "status": "FULFILLED", "trackingNumber": "", "created": shipped}
        ],
        first_fulfilled_at=datetime(2026, 11, 16, 12, 0, tzinfo=UTC),
    )
    _evaluate(test_installation, order, MONDAY_10 + timedelta(hours=3))
    assert order.delay_check_at == datetime(2026, 11, 19, 12, 0, tzinfo=UTC)  # 3 days after shipping

    delay_scan(now=datetime(2026, 11, 19, 12, 5, tzinfo=UTC))

    case = Case.objects.get()
    assert case.rule == CaseRule.DELIVERY_DELAY
    assert "no tracking number" in case.events.get(type="case_opened").parameters["detail"]


def test_delivered_or_untracked_carriers_do_not_flood_cases(test_installation):
    # a tracked parcel whose carrier integration reports nothing (no delivery_status) is not "stuck"
    order = _order(
        test_installation,
        status="FULFILLED",
        fulfillments=[
            {"id": "f1", "status": "FULFILLED", "trackingNumber": "1Z9", "created": "2026-11-01T10:00:00+00:00"}
        ],
        has_tracking=True,
    )
    _evaluate(test_installation, order, MONDAY_10)

    assert not Case.objects.exists()
    assert order.delay_check_at is None


def test_cancelled_after_payment_without_refund_opens_a_high_priority_case_until_refunded(test_installation):
    order = _order(test_installation, status="CANCELED")
    _evaluate(test_installation, order, MONDAY_10)

    case = Case.objects.get()
    assert (case.rule, case.priority, case.value_at_risk) == (CaseRule.CANCELLED_WITHOUT_REFUND, "high", Decimal("80"))

    OrderSnapshot.objects.filter(pk=order.pk).update(total_charged=Decimal("0"), total_refunded=Decimal("80"))
    order.refresh_from_db()
    _evaluate(test_installation, order, MONDAY_10 + timedelta(hours=2))

    case.refresh_from_db()
    assert (case.status, case.recovered_amount) == (CaseStatus.RESOLVED, Decimal("80"))


def test_failed_granted_refund_opens_a_case_that_clears_when_a_refund_succeeds(test_installation):
    grant = {"id": "g1", "status": "FAILURE", "amount": {"amount": 20.0, "currency": "USD"}}
    order = _order(test_installation, granted_refunds=[grant], status="FULFILLED")
    _evaluate(test_installation, order, MONDAY_10)
    case = Case.objects.get(rule=CaseRule.REFUND_FAILED)
    assert case.value_at_risk == Decimal("20")

    OrderSnapshot.objects.filter(pk=order.pk).update(
        granted_refunds=[grant, {"id": "g2", "status": "SUCCESS", "amount": {"amount": 20.0, "currency": "USD"}}],
        total_refunded=Decimal("20"),
    )
    order.refresh_from_db()
    _evaluate(test_installation, order, MONDAY_10 + timedelta(hours=1))

    case.refresh_from_db()
    assert (case.status, case.recovered_amount) == (CaseStatus.RESOLVED, Decimal("20"))


def test_delay_scan_touches_only_due_orders_of_every_installation(test_installation, recorded_installation):
    due = _order(test_installation, delay_check_at=MONDAY_10 - timedelta(minutes=1))
    _order(recorded_installation, saleor_id="T3JkZXI6Mg==", delay_check_at=MONDAY_10 + timedelta(days=1))
    _order(recorded_installation, saleor_id="T3JkZXI6Mw==", delay_check_at=None)

    assert delay_scan(now=MONDAY_10) == 1
    due.refresh_from_db()
    assert due.delay_check_at is not None and due.delay_check_at > MONDAY_10


def test_failed_refund_we_issued_ourselves_opens_no_second_case(test_installation):
    # the staff refund flow marks its grants; its failures already sit on the staff member's case
    grant = {
        "id": "g1",
        "status": "FAILURE",
        "reason": "Damaged (support case #4) [support:abc]",
        "amount": {"amount": 20.0},
    }
    order = _order(test_installation, granted_refunds=[grant], status="FULFILLED")

    _evaluate(test_installation, order, MONDAY_10)

    assert not Case.objects.filter(rule=CaseRule.REFUND_FAILED).exists()
