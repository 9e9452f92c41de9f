"""CSAT: one survey per resolved case, in the shopper's language, e-mailed through the case's outbox."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail

from saleor_support_plugin.events import RULE
from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    Customer,
    FeedbackEmailStatus,
    FeedbackKind,
    FeedbackRequest,
    NoticeTemplate,
    OutboundEmail,
)
from saleor_support_plugin.services.cases import case_open, case_status_set
from saleor_support_plugin.services.email import outbound_email_send
from saleor_support_plugin.services.feedback import feedback_request_csat_create
from tests.feedback.conftest import STAFF, T0, resolved_case

LINK = re.compile(r"(\S+/api/feedback/(\d+)/([\w-]+)\?score=(\d+))")


def _send(request: FeedbackRequest):
    assert outbound_email_send(email_id=request.outbound_email_id) == "sent"
    [message] = mail.outbox
    return message


def test_resolved_case_gets_one_survey_in_the_shoppers_language(test_installation, django_capture_on_commit_callbacks):
    # given
    case = resolved_case(test_installation, language="DE", name="Anna")

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = feedback_request_csat_create(case=case, at=T0 + timedelta(hours=3))

    # then the request is stored, the e-mail is queued for after commit and the timeline says so
    assert request.kind == FeedbackKind.CSAT and request.email_status == FeedbackEmailStatus.OUTBOX
    assert (request.to_email, request.order_number, request.language_code) == ("ana@example.com", "1042", "DE")
    assert request.expires_at == T0 + timedelta(hours=3, days=30)
    assert len(callbacks) == 1
    assert OutboundEmail.objects.get(pk=request.outbound_email_id).kind == "notice:csat_survey"
    event = CaseEvent.objects.get(case=case, type="feedback_requested")
    assert event.parameters == {"request_id": request.pk, "kind": "csat"}
    # and the e-mail, once sent, is German, links every score 5…1 to this survey, and tells robots not to answer
    message = _send(request)
    assert message.subject == f"Wie war unser Service? Ihr Fall #{case.number}"
    assert message.to == ["ana@example.com"]
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    body = message.body
    assert body.startswith("Hallo Anna,")
    links = LINK.findall(body)
    assert [int(score) for *_, score in links] == [5, 4, 3, 2, 1]
    assert {(int(i), token) for _, i, token, _ in links} == {(test_installation.pk, request.token)}
    assert " 5 (Sehr zufrieden): http" in body and " 1 (Sehr unzufrieden): http" in body


def test_a_case_is_asked_once(test_installation):
    # given
    case = resolved_case(test_installation)
    first = feedback_request_csat_create(case=case)

    # when
    second = feedback_request_csat_create(case=case)

    # then
    assert first is not None and second is None
    assert FeedbackRequest.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="notice:csat_survey").count() == 1


def test_unknown_language_falls_back_to_english(test_installation):
    case = resolved_case(test_installation, language="FR_CA")

    request = feedback_request_csat_create(case=case)

    message = _send(request)
    assert message.subject == f"How did we do? Your case #{case.number}"
    assert message.body.startswith("Hello Ana,")


def test_merchant_wording_replaces_the_shipped_one(test_installation):
    # given
    NoticeTemplate.objects.create(
        installation=test_installation,
        rule="csat_survey",
        language="en",
        subject="Rate case $case_number",
        body="Hi $customer_name, rate us:\n$score_links\n",
    )
    case = resolved_case(test_installation)

    # when
    message = _send(feedback_request_csat_create(case=case))

    # then
    assert message.subject == f"Rate case {case.number}"
    assert message.body.startswith("Hi Ana, rate us:\n 5 (Very satisfied): http")


def test_cases_that_must_not_be_asked(test_installation):
    # given an open case, a case without customer, a merged one and one of an erased customer
    open_case = case_open(installation=test_installation, subject="Open", actor=STAFF, customer_email="b@example.com")
    anonymous = case_open(installation=test_installation, subject="No customer", actor=RULE)
    case_status_set(case=anonymous, status="resolved", actor=STAFF)
    merged = resolved_case(test_installation, email="c@example.com")
    Case.objects.filter(pk=merged.pk).update(merged_into=open_case)
    erased = resolved_case(test_installation, email="d@example.com")
    Customer.objects.filter(pk=erased.customer_id).update(email=f"erased-{erased.customer_id}@erased.invalid")

    # when
    results = [feedback_request_csat_create(case=c) for c in (open_case, anonymous, merged, erased)]

    # then
    assert results == [None, None, None, None]
    assert not FeedbackRequest.objects.exists()
