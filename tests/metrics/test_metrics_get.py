"""Metrics over hand-built cases whose every timestamp is known, so every number is asserted exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.models import CaseStatus, FeedbackKind, Installation
from saleor_support_plugin.selectors import percentiles
from saleor_support_plugin.selectors.metrics import metrics_get
from tests.feedback import builders

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
S = timedelta(seconds=1)


def _case(installation, day: int, *, fr: int | None = None, res: int | None = None, **kw):
    created = START + timedelta(days=day, hours=9)
    status = kw.pop("status", CaseStatus.RESOLVED if res is not None else CaseStatus.OPEN)
    return builders.case(
        installation,
        created_at=created,
        status=status,
        first_responded_at=created + fr * S if fr is not None else None,
        resolved_at=created + res * S if res is not None else None,
        first_response_due_at=created + timedelta(hours=4),
        resolution_due_at=created + timedelta(days=2),
        **kw,
    )


@pytest.fixture
def shop(test_installation):
    """Eight cases in November (plus ones that must not count), answers to CSAT and NPS, two sales channels."""
    i = test_installation
    c1 = _case(
        i, 1, fr=60, res=3600, source="storefront", reason="order_status", resolver="staff", order_saleor_id="O1"
    )
    c2 = _case(
        i, 2, fr=120, res=7200, source="email", reason="delivery_delay", resolver="staff", sla_resolution_breached=True
    )
    c3 = _case(
        i,
        3,
        fr=180,
        res=10800,
        source="email",
        reason="order_status",
        resolver="staff",
        sla_first_response_breached=True,
    )
    _case(i, 4, fr=240, source="staff", reason="return_request")
    _case(
        i,
        5,
        res=1800,
        source="auto",
        reason="payment_issue",
        rule="order_payment_failed",
        resolver="rule",
        value_at_risk=Decimal("50.00"),
        recovered_amount=Decimal("50.00"),
        currency="EUR",
    )
    _case(
        i,
        6,
        source="auto",
        reason="payment_issue",
        rule="checkout_payment_failed",
        value_at_risk=Decimal("20.00"),
        currency="EUR",
        checkout_saleor_id="C6",
    )
    _case(
        i,
        7,
        fr=300,
        res=5400,
        source="auto",
        reason="payment_issue",
        rule="order_payment_failed",
        resolver="staff",
        value_at_risk=Decimal("30.00"),
        recovered_amount=Decimal("10.00"),
        currency="USD",
    )
    _case(
        i,
        8,
        fr=600,
        res=14400,
        source="storefront",
        reason="order_status",
        resolver="customer",
        status=CaseStatus.CLOSED,
        closed_at=START + timedelta(days=9),
    )
    # must not count: created before the range, merged into c1, or another shop's
    _case(i, -1, fr=5, res=5, source="storefront", reason="complaint", resolver="staff")
    _case(
        i,
        10,
        fr=1,
        res=1,
        source="email",
        reason="complaint",
        resolver="rule",
        merged_into=c1,
        status=CaseStatus.CLOSED,
    )
    other = builders.other_shop()
    _case(other, 11, fr=2, res=2, source="email", reason="complaint", resolver="rule")
    builders.answer(
        other, FeedbackKind.CSAT, 1, answered_at=START + timedelta(days=3), case=builders.case(other, created_at=START)
    )
    builders.answer(other, FeedbackKind.NPS, 0, answered_at=START + timedelta(days=3))
    # sales channels: c1's order and c6's checkout were placed in channel-pln
    builders.order(i, "O1", at=START, channel_slug="channel-pln")
    builders.checkout(i, "C6", at=START, channel_slug="channel-pln")
    # CSAT 5, 4, 2 in November; one unanswered, one answered in October
    answer_at = START + timedelta(days=12)
    builders.answer(i, FeedbackKind.CSAT, 5, answered_at=answer_at, case=c1, channel_slug="channel-pln")
    builders.answer(i, FeedbackKind.CSAT, 4, answered_at=answer_at, case=c2)
    builders.answer(i, FeedbackKind.CSAT, 2, answered_at=answer_at, case=c3)
    builders.answer(i, FeedbackKind.CSAT, None, answered_at=None, case=_case(i, -3))
    builders.answer(i, FeedbackKind.CSAT, 1, answered_at=START - timedelta(days=2), case=_case(i, -5))
    for n, score in enumerate((10, 9, 9, 7, 3)):
        builders.answer(i, FeedbackKind.NPS, score, answered_at=answer_at, order_saleor_id=f"N{n}")
    return i


def test_times_are_exact_medians_and_p90_of_the_cohort(shop):
    # when
    metrics = metrics_get(installation=shop, start=START, end=END)

    # then first responses 60, 120, 180, 240, 300, 600 s; resolutions 1800 … 14400 s (percentile_cont)
    assert (metrics.first_response.count, metrics.first_response.median_seconds) == (6, 210.0)
    assert metrics.first_response.p90_seconds == 450.0
    assert (metrics.resolution.count, metrics.resolution.median_seconds) == (6, 6300.0)
    assert metrics.resolution.p90_seconds == 12600.0


def test_sla_attainment_counts_only_settled_targets(shop):
    metrics = metrics_get(installation=shop, start=START, end=END)

    sla = metrics.sla
    assert (sla.first_response.settled, sla.first_response.met, sla.first_response.percent) == (6, 5, 83.33)
    assert (sla.resolution.settled, sla.resolution.met, sla.resolution.percent) == (6, 5, 83.33)
    assert (sla.overall.settled, sla.overall.met, sla.overall.percent) == (7, 5, 71.43)


def test_csat_and_nps_come_from_answers_given_in_the_range(shop):
    metrics = metrics_get(installation=shop, start=START, end=END)

    assert metrics.csat.responses == 3
    assert metrics.csat.average == 3.6667
    assert metrics.csat.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    nps = metrics.nps
    assert (nps.responses, nps.promoters, nps.passives, nps.detractors, nps.score) == (5, 3, 1, 1, 40.0)


def test_volume_automation_and_payment_recovery(shop):
    metrics = metrics_get(installation=shop, start=START, end=END)

    assert list(metrics.volume_by_reason.items()) == [
        ("order_status", 3), ("payment_issue", 3), ("delivery_delay", 1), ("return_request", 1)
    ]  # fmt: skip
    assert list(metrics.volume_by_channel.items()) == [("system", 3), ("email", 2), ("storefront", 2), ("dashboard", 1)]
    auto = metrics.automation
    assert (auto.cases, auto.opened_by_rule, auto.opened_by_rule_percent) == (8, 3, 37.5)
    assert (auto.resolved, auto.resolved_by_rule, auto.resolved_by_staff, auto.resolved_by_other) == (6, 1, 4, 1)
    assert auto.resolved_by_rule_percent == 16.67
    recovery = [(r.currency, r.cases, r.at_risk, r.recovered) for r in metrics.payment_recovery]
    assert recovery == [("EUR", 2, Decimal("70.00"), Decimal("50.00")), ("USD", 1, Decimal("30.00"), Decimal("10.00"))]


def test_channel_filter_narrows_cases_and_csat_but_not_nps(shop):
    metrics = metrics_get(installation=shop, start=START, end=END, channel="email")

    assert metrics.volume_by_channel == {"email": 2}
    assert (metrics.first_response.count, metrics.first_response.median_seconds) == (2, 150.0)
    assert (metrics.csat.responses, metrics.csat.average) == (2, 3.0)
    assert metrics.nps.responses == 5


def test_sales_channel_filter_follows_orders_and_checkouts(shop):
    metrics = metrics_get(installation=shop, start=START, end=END, sales_channel="channel-pln")

    assert metrics.volume_by_reason == {"order_status": 1, "payment_issue": 1}
    assert [(r.currency, r.cases, r.at_risk) for r in metrics.payment_recovery] == [("EUR", 1, Decimal("20.00"))]
    assert (metrics.csat.responses, metrics.csat.distribution[5]) == (1, 1)
    assert metrics.nps.responses == 0


def test_python_fallback_gives_the_same_percentiles_as_postgres(shop, monkeypatch):
    # given the path `make run` takes on SQLite
    in_db = metrics_get(installation=shop, start=START, end=END)
    monkeypatch.setattr(percentiles, "percentiles_in_database", lambda: False)

    # when
    in_python = metrics_get(installation=shop, start=START, end=END)

    # then
    assert in_python.first_response == in_db.first_response
    assert in_python.resolution == in_db.resolution


def test_another_installation_sees_only_its_own(shop):
    other = Installation.objects.exclude(pk=shop.pk).get()

    metrics = metrics_get(installation=other, start=START, end=END)

    assert metrics.automation.cases == 2
    assert (metrics.first_response.count, metrics.first_response.median_seconds) == (1, 2.0)
    assert (metrics.csat.responses, metrics.nps.responses) == (1, 1)
    assert metrics.payment_recovery == []


def test_empty_range_has_no_numbers(test_installation):
    metrics = metrics_get(installation=test_installation, start=START, end=END)

    assert metrics.first_response.median_seconds is None
    assert metrics.sla.overall.percent is None
    assert metrics.csat.average is None and metrics.nps.score is None
    assert metrics.automation.opened_by_rule_percent is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": END, "end": START}, "end"),
        ({"start": START.replace(tzinfo=None), "end": END}, "start"),
        ({"start": START, "end": END, "channel": "fax"}, "channel"),
    ],
)
def test_bad_ranges_and_channels_are_refused(test_installation, kwargs, field):
    with pytest.raises(PermanentError) as error:
        metrics_get(installation=test_installation, **kwargs)

    assert error.value.field == field
