"""``supportMetrics`` on the staff API: the selector's numbers, Saleor-shaped; MANAGE_ORDERS; own shop only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from saleor_support_plugin.models import FeedbackKind
from tests.feedback import builders
from tests.graphql.conftest import staff_headers
from tests.metrics.test_metrics_get import END, START

QUERY = """query($start: DateTime!, $end: DateTime!, $channel: MessageChannel) {
  supportMetrics(start: $start, end: $end, channel: $channel) {
    firstResponse { count medianSeconds p90Seconds }
    sla { overall { settled met percent } }
    csat { responses average distribution { score count } }
    nps { score }
    automation { cases openedByRule resolvedByRule }
    volumeByReason { reason count }
    volumeByChannel { channel count }
    paymentRecovery { currency cases atRisk { amount currency } recovered { amount } }
  }
}"""
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


def _shop(installation) -> None:
    created = START + timedelta(days=1)
    c1 = builders.case(
        installation,
        created_at=created,
        source="email",
        reason="order_status",
        status="resolved",
        first_responded_at=created + timedelta(seconds=90),
        resolved_at=created + timedelta(hours=1),
        first_response_due_at=created + timedelta(hours=1),
        resolution_due_at=created + timedelta(days=1),
        resolver="staff",
    )
    builders.case(
        installation,
        created_at=created,
        source="auto",
        rule="order_payment_failed",
        reason="payment_issue",
        value_at_risk=Decimal("12.50"),
        currency="EUR",
    )
    builders.answer(installation, FeedbackKind.CSAT, 4, answered_at=created, case=c1)  # fmt: skip


def test_staff_read_their_shops_metrics(gql, test_installation):
    # given
    _shop(test_installation)
    builders.case(builders.other_shop(), created_at=START + timedelta(days=2), source="email")

    # when
    result = gql("staff", QUERY, RANGE, staff_headers(test_installation, permissions=("MANAGE_ORDERS",)))

    # then
    assert result.status == 200 and not result.errors, result.body
    data = result.data["supportMetrics"]
    assert data["firstResponse"] == {"count": 1, "medianSeconds": 90.0, "p90Seconds": 90.0}
    assert data["sla"]["overall"] == {"settled": 1, "met": 1, "percent": 100.0}
    assert data["csat"]["responses"] == 1 and data["csat"]["average"] == 4.0
    assert {"score": 4, "count": 1} in data["csat"]["distribution"] and data["nps"]["score"] is None
    assert data["automation"] == {"cases": 2, "openedByRule": 1, "resolvedByRule": 0}
    assert data["volumeByReason"] == [{"reason": "ORDER_STATUS", "count": 1}, {"reason": "PAYMENT_ISSUE", "count": 1}]
    assert data["volumeByChannel"] == [{"channel": "EMAIL", "count": 1}, {"channel": "SYSTEM", "count": 1}]
    assert data["paymentRecovery"] == [
        {"currency": "EUR", "cases": 1, "atRisk": {"amount": 12.5, "currency": "EUR"}, "recovered": {"amount": 0.0}}
    ]


def test_channel_filter_and_bad_range(gql, test_installation):
    _shop(test_installation)
    headers = staff_headers(test_installation)

    filtered = gql("staff", QUERY, {**RANGE, "channel": "SYSTEM"}, headers)
    inverted = gql("staff", QUERY, {"start": END.isoformat(), "end": START.isoformat()}, headers)

    assert filtered.data["supportMetrics"]["automation"]["cases"] == 1
    assert inverted.error_codes == ["INVALID"] and inverted.data is None


def test_metrics_need_manage_orders(gql, test_installation):
    result = gql("staff", QUERY, RANGE, staff_headers(test_installation, permissions=("MANAGE_USERS",)))

    assert result.error_codes == ["FORBIDDEN"]
