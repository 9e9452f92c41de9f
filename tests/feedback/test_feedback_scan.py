"""The scan asks what is due, once: CSAT after resolution + delay, NPS after delivery + delay."""

from __future__ import annotations

from datetime import timedelta

from saleor_support_plugin.models import Case, CaseStatus, FeedbackKind, FeedbackRequest, Installation
from saleor_support_plugin.services.cases import case_open
from saleor_support_plugin.services.feedback import (
    feedback_requests_due_create,
    feedback_scan,
    feedback_settings_update,
)
from tests.conftest import make_installation
from tests.feedback import builders
from tests.feedback.conftest import STAFF, T0, resolved_case

RESOLVED = T0 + timedelta(hours=2)  # resolved_case() resolves two hours after opening


def _kinds() -> list[tuple[str, str]]:
    return list(FeedbackRequest.objects.order_by("pk").values_list("kind", "to_email"))


def test_nothing_is_asked_unless_the_merchant_switches_surveys_on(test_installation):
    resolved_case(test_installation)
    builders.order(
        test_installation, "O1", at=T0, user_email="ana@example.com", fulfillments=[builders.fulfillment(T0)]
    )

    counts = feedback_requests_due_create(installation=test_installation, now=T0 + timedelta(days=10))

    assert counts == {"csat": 0, "nps": 0, "requeued": 0}
    assert not FeedbackRequest.objects.exists()


def test_csat_waits_for_the_delay_and_is_sent_once(surveys_on):
    # given a case resolved at RESOLVED; the delay is 60 minutes
    resolved_case(surveys_on)

    # when / then
    assert feedback_requests_due_create(installation=surveys_on, now=RESOLVED + timedelta(minutes=59))["csat"] == 0
    assert feedback_requests_due_create(installation=surveys_on, now=RESOLVED + timedelta(minutes=60))["csat"] == 1
    assert feedback_requests_due_create(installation=surveys_on, now=RESOLVED + timedelta(minutes=90))["csat"] == 0
    assert _kinds() == [("csat", "ana@example.com")]


def test_csat_skips_cases_nobody_answered_and_cases_from_before_the_switch(surveys_on):
    # given a case resolved by itself without any staff reply, and one resolved before CSAT was switched on
    resolved_case(surveys_on, answered=False)
    resolved_case(surveys_on, at=T0 - timedelta(days=8), email="old@example.com")

    # when
    counts = feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=1))

    # then
    assert counts["csat"] == 0


def test_csat_does_not_reach_back_beyond_a_week_after_the_delay(test_installation):
    # given CSAT on for a month, cases resolved 20 and 3 days ago (say the worker was down)
    feedback_settings_update(installation=test_installation, csat_enabled=True, at=T0 - timedelta(days=30))
    resolved_case(test_installation, at=T0 - timedelta(days=20), email="late@example.com")
    resolved_case(test_installation, at=T0 - timedelta(days=3), email="recent@example.com")

    # when
    counts = feedback_requests_due_create(installation=test_installation, now=T0)

    # then
    assert counts["csat"] == 1
    assert _kinds() == [("csat", "recent@example.com")]


def test_csat_is_not_asked_when_the_case_was_reopened(surveys_on):
    case = resolved_case(surveys_on)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.OPEN, resolved_at=None)

    assert feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=1))["csat"] == 0


def test_nps_waits_for_delivery_plus_delay(surveys_on, django_capture_on_commit_callbacks):
    # given one order shipped at T0 (no carrier data), one whose carrier reported delivery two days later
    builders.order(surveys_on, "O1", at=T0, user_email="Ana@Example.com", fulfillments=[builders.fulfillment(T0)])
    builders.order(
        surveys_on,
        "O2",
        at=T0,
        user_email="bob@example.com",
        fulfillments=[builders.fulfillment(T0, delivered_at=T0 + timedelta(days=2))],
    )

    # when / then: the delay is 3 days
    assert feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=3, minutes=-1))["nps"] == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=3))
    assert counts["nps"] == 1 and len(callbacks) == 1
    assert _kinds() == [("nps", "ana@example.com")]
    assert feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=5))["nps"] == 1
    assert feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=6))["nps"] == 0
    assert _kinds() == [("nps", "ana@example.com"), ("nps", "bob@example.com")]


def test_nps_skips_partial_shipments_open_complaints_and_recently_asked_shoppers(surveys_on):
    # given a partly shipped order, an order with an open case, and a shopper asked about another order lately
    shipped = [builders.fulfillment(T0)]
    builders.order(
        surveys_on, "O1", at=T0, user_email="a@example.com", fulfillments=shipped, status="PARTIALLY_FULFILLED"
    )
    builders.order(surveys_on, "O2", at=T0, user_email="b@example.com", fulfillments=shipped)
    case_open(
        installation=surveys_on, subject="Broken", actor=STAFF, customer_email="b@example.com", order_saleor_id="O2"
    )
    builders.order(surveys_on, "O3", at=T0, user_email="c@example.com", fulfillments=shipped)
    builders.answer(
        surveys_on, FeedbackKind.NPS, None, answered_at=None, to_email="c@example.com", order_saleor_id="O0",
        created_at=T0 - timedelta(days=40),
    )  # fmt: skip

    # when
    counts = feedback_requests_due_create(installation=surveys_on, now=T0 + timedelta(days=4))

    # then
    assert counts["nps"] == 0


def test_scan_covers_active_installations_with_surveys_on_and_keeps_them_apart(surveys_on, other_installation):
    # given the same shopper in two shops; only the first has surveys on, a third is uninstalled
    resolved_case(surveys_on)
    resolved_case(other_installation)
    gone = make_installation(api_url="https://gone.example.net/graphql/", app_id="QXBwOjg=")
    feedback_settings_update(installation=gone, csat_enabled=True, at=T0 - timedelta(days=7))
    resolved_case(gone)
    Installation.objects.filter(pk=gone.pk).update(is_active=False)

    # when
    totals = feedback_scan(now=T0 + timedelta(days=1))

    # then
    assert totals == {"installations": 1, "csat": 1, "nps": 0, "requeued": 0}
    assert list(FeedbackRequest.objects.values_list("installation_id", flat=True)) == [surveys_on.pk]
