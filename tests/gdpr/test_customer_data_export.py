"""Export: everything we hold on the shopper, nothing of anyone else's, and an audit row without the address."""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.models import CustomerDataRequest
from saleor_support_plugin.services.gdpr import customer_data_export, subject_digest
from tests.gdpr.conftest import ADDRESS, ANA, STAFF


def test_export_holds_the_shoppers_cases_notes_feedback_and_orders(shop, elsewhere):
    # when
    document = customer_data_export(installation=shop.installation, email=" ANA@example.com ", actor=STAFF)

    # then it is JSON as is
    text = json.dumps(document)
    assert document["email"] == ANA and document["format"] == "saleor-support-plugin/customer-data/v1"
    assert [c["email"] for c in document["customers"]] == [ANA]
    assert document["customers"][0]["name"] == "Ana Lima"
    # both of her cases, with the conversation, internal notes, tags, timeline and e-mails we sent her
    first, rule_case = document["cases"]
    assert first["number"] == shop.ana_case.number and rule_case["number"] == shop.ana_rule_case.number
    assert [m["body"] for m in first["messages"]] == [
        "Hi, I am Ana Lima, Rua Augusta 1, Lisboa. Where is my parcel?",
        "Dear Ana Lima, it ships tomorrow.",
        "Thanks! Ana",
    ]
    assert [m["author"] for m in first["messages"]] == [ANA, "staff", ANA]
    assert first["notes"][0]["body"] == "Ana Lima called twice, be gentle."
    assert first["tags"] == ["vip"]
    assert "case_resolved" in [e["type"] for e in first["events"]]
    assert [e["to"] for e in first["emails_sent"]] == [ANA]
    assert rule_case["emails_sent"][0]["subject"].startswith("Payment")
    # her message on Bob's case, but nothing else of his
    assert [m["body"] for m in document["messages_on_other_cases"]] == ["Ana Lima: he is my husband"]
    assert "Bob Stone" not in text and "O-bob" not in text and "Porto" not in text
    # survey answers, orders and checkouts we keep a copy of
    assert [(f["kind"], f["score"], f["comment"]) for f in document["feedback"]] == [
        ("nps", None, ""),
        ("csat", 5, "Ana here: lovely service"),
    ]
    assert [(o["number"], o["email"], o["shipping_address"]) for o in document["orders"]] == [
        ("-ana", "Ana@Example.com", ADDRESS)
    ]
    assert document["checkouts"][0]["email"] == ANA
    # staff appear by role only
    assert "agent@shop.example.com" not in text


def test_export_is_audited_without_the_address(shop):
    customer_data_export(installation=shop.installation, email=ANA, actor=STAFF)

    row = CustomerDataRequest.objects.get()
    assert (row.kind, row.via, row.actor_email) == ("export", "staff", "agent@shop.example.com")
    assert row.subject_digest == subject_digest(installation=shop.installation, email=ANA)
    assert ANA not in json.dumps(row.summary) and row.summary["cases"] == 2


def test_another_shops_data_is_not_exported(shop, elsewhere):
    document = customer_data_export(installation=elsewhere.installation, email=ANA, actor=STAFF)

    assert [c["number"] for c in document["cases"]] == [elsewhere.ana_case.number, elsewhere.ana_rule_case.number]
    assert document["messages_on_other_cases"] == []
    assert len(document["orders"]) == 1 and len(document["feedback"]) == 2


def test_unknown_shopper_gets_an_empty_document(shop):
    document = customer_data_export(installation=shop.installation, email="nobody@example.com", actor=STAFF)

    assert all(document[key] == [] for key in ("customers", "cases", "feedback", "orders", "checkouts"))


def test_invalid_address_is_refused(shop):
    with pytest.raises(PermanentError) as error:
        customer_data_export(installation=shop.installation, email="not-an-address", actor=STAFF)

    assert (error.value.code, error.value.field) == ("INVALID", "email")
