"""Erasure: no word or address of the shopper is left, other shoppers and shops are untouched, metrics still add up."""

from __future__ import annotations

import json
from datetime import timedelta

from saleor_support_plugin.events import SYSTEM
from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CheckoutSnapshot,
    Customer,
    CustomerDataRequest,
    EventStatus,
    FeedbackEmailStatus,
    FeedbackRequest,
    InboundEmail,
    Installation,
    Message,
    Note,
    OrderSnapshot,
    OutboundEmail,
    OutboundEmailStatus,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.selectors.metrics import metrics_get
from saleor_support_plugin.services.gdpr import customer_data_erase, subject_digest
from tests.gdpr.conftest import ANA, ANA_NAME, ANA_USER, STAFF, T0

NEEDLES = (ANA, ANA_NAME.lower(), "rua augusta", ANA_USER.lower())


def _rows(installation: Installation) -> dict[str, list[dict]]:
    """Every row we hold for the installation, as plain values (pending inbox rows aside)."""
    scoped = {"installation": installation}
    by_case = {"case__installation": installation}
    return {
        model.__name__: list(model.objects.filter(**scope).values())
        for model, scope in [
            (Customer, scoped), (Case, scoped), (Message, by_case), (Note, by_case), (CaseEvent, scoped),
            (OutboundEmail, scoped), (FeedbackRequest, scoped), (OrderSnapshot, scoped), (CheckoutSnapshot, scoped),
            (TransactionSnapshot, scoped), (InboundEmail, scoped), (CustomerDataRequest, scoped),
        ]
    } | {"WebhookEvent": list(WebhookEvent.objects.filter(**scoped).exclude(status="received").values())}  # fmt: skip


def _mentions(installation: Installation) -> dict[str, int]:
    found = {}
    for model, rows in _rows(installation).items():
        hits = sum(any(n in json.dumps(row, default=str).lower() for n in NEEDLES) for row in rows)
        if hits:
            found[model] = hits
    return found


def test_erasure_leaves_no_trace_of_the_shopper(shop):
    # given
    assert set(_mentions(shop.installation)) >= {"Customer", "Case", "Message", "OrderSnapshot", "WebhookEvent"}

    # when
    counts = customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    # then
    assert _mentions(shop.installation) == {}
    assert counts == {
        "cases": 2, "messages": 4, "inbound_emails": 1, "notes": 1, "events": counts["events"], "outbound_emails": 2,
        "feedback": 2, "orders": 1, "checkouts": 1, "webhook_events": 2, "customers": 1,
    }  # fmt: skip
    customer = Customer.objects.get(pk=shop.ana_case.customer_id)
    assert (customer.email, customer.name) == (f"erased-{customer.pk}@erased.invalid", "")
    assert not InboundEmail.objects.exists()


def test_what_was_in_flight_is_stopped_and_the_survey_link_dies(shop, client):
    # given a notice still queued, a survey e-mail still queued and an answered survey
    notice = OutboundEmail.objects.get(case=shop.ana_rule_case)
    assert notice.status == OutboundEmailStatus.QUEUED
    csat = FeedbackRequest.objects.get(kind="csat")

    # when
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    # then
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == (OutboundEmailStatus.FAILED, "customer data erased")
    assert FeedbackRequest.objects.get(kind="nps").email_status == FeedbackEmailStatus.CANCELLED
    csat.refresh_from_db()
    assert (csat.score, csat.comment, csat.customer_id) == (5, "", None)
    url = f"/api/feedback/{csat.installation_id}/{csat.token}"
    assert client.post(url, data={"score": 4}, content_type="application/json").status_code == 404


def test_other_shoppers_and_other_shops_are_untouched(shop, elsewhere):
    # given
    before = {"shop": _rows(shop.installation), "elsewhere": _rows(elsewhere.installation)}
    bob_messages = list(Message.objects.filter(case=shop.bob_case, author_email="bob@x.com").values())

    # when
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    # then
    assert _rows(elsewhere.installation) == before["elsewhere"]
    assert list(Message.objects.filter(case=shop.bob_case, author_email="bob@x.com").values()) == bob_messages
    assert OrderSnapshot.objects.get(installation=shop.installation, saleor_id="O-bob").user_email == "bob@x.com"
    assert Customer.objects.filter(installation=shop.installation, email="bob@x.com", name="Bob Stone").exists()
    assert Case.objects.get(pk=shop.bob_case.pk).subject == "Invoice please"
    # her message on Bob's case is gone, his case stays his
    assert list(Message.objects.filter(case=shop.bob_case).values_list("body", flat=True)) == [
        "Invoice for order 77, Bob Stone",
        "[erased]",
    ]


def test_metrics_are_the_same_after_erasure(shop):
    # given
    window = {"installation": shop.installation, "start": T0 - timedelta(days=1), "end": T0 + timedelta(days=1)}
    before = metrics_get(**window)

    # when
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    # then
    after = metrics_get(**window)
    assert after == before
    assert after.csat.responses == 1 and after.automation.cases == 3


def test_erasure_is_audited_on_every_case_and_once_per_request(shop):
    # when
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    # then
    events = CaseEvent.objects.filter(type="customer_data_erased").order_by("case_id")
    assert [e.case_id for e in events] == [shop.ana_case.pk, shop.ana_rule_case.pk]
    assert {(e.actor_email, e.parameters["via"]) for e in events} == {("agent@shop.example.com", "staff")}
    row = CustomerDataRequest.objects.get()
    assert (row.kind, row.subject_digest) == ("erase", subject_digest(installation=shop.installation, email=ANA))


def test_erasing_twice_finds_nothing_the_second_time(shop):
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)
    snapshot = _rows(shop.installation)

    counts = customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    assert counts["customers"] == counts["cases"] == counts["messages"] == counts["orders"] == 0
    assert CustomerDataRequest.objects.filter(kind="erase").count() == 2
    after = _rows(shop.installation)
    assert {k: v for k, v in after.items() if k != "CustomerDataRequest"} == {
        k: v for k, v in snapshot.items() if k != "CustomerDataRequest"
    }


def test_saleor_user_id_finds_the_shopper_under_an_older_address(shop):
    # given Ana changed her address in Saleor after she last wrote to us
    customer_data_erase(
        installation=shop.installation, email="ana.new@example.com", saleor_user_id=ANA_USER, actor=SYSTEM
    )

    assert _mentions(shop.installation) == {}


def test_pending_inbox_rows_are_left_to_their_worker(shop):
    customer_data_erase(installation=shop.installation, email=ANA, actor=STAFF)

    pending = WebhookEvent.objects.get(pk=shop.pending_event.pk)
    assert pending.status == EventStatus.RECEIVED and ANA in pending.raw_body
    erased = WebhookEvent.objects.filter(installation=shop.installation).exclude(status=EventStatus.RECEIVED)
    assert set(erased.values_list("raw_body", flat=True)) == {'{"erased": true}'}
