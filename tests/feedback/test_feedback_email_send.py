"""NPS survey e-mails (orders may have no case): rendered at send time, sent once, failures recorded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from saleor_support_plugin.errors import RetryableError
from saleor_support_plugin.models import Customer, FeedbackEmailStatus, FeedbackRequest
from saleor_support_plugin.services.feedback import feedback_request_nps_create
from saleor_support_plugin.services.feedback_email import (
    feedback_email_mark_failed,
    feedback_email_send,
    feedback_emails_requeue,
)
from saleor_support_plugin.tasks import FeedbackEmailTask
from tests.email.conftest import free_port
from tests.feedback import builders
from tests.feedback.conftest import T0


def _nps_request(installation, *, email: str = "ana@example.com", language: str = "EN_US") -> FeedbackRequest:
    order = builders.order(
        installation,
        "T3JkZXI6NDI=",
        at=T0,
        number="42",
        user_email=email,
        language_code=language,
        fulfillments=[builders.fulfillment(T0)],
    )
    return feedback_request_nps_create(installation=installation, order=order, at=T0 + timedelta(days=4))


def test_nps_email_asks_for_0_to_10_and_is_sent_once(test_installation):
    # given a shopper we know by name from an earlier case
    Customer.objects.create(installation=test_installation, email="ana@example.com", name="Ana")
    request = _nps_request(test_installation)

    # when
    first = feedback_email_send(request_id=request.pk)
    second = feedback_email_send(request_id=request.pk)

    # then
    assert (first, second) == ("sent", "skipped:sent")
    [message] = mail.outbox
    assert message.subject == "Would you recommend us? A quick question about order 42"
    assert message.body.startswith("Hello Ana,")
    scores = [int(s) for s in re.findall(r"\?score=(\d+)", message.body)]
    assert scores == list(range(10, -1, -1))
    assert f"/api/feedback/{test_installation.pk}/{request.token}?score=10" in message.body
    assert message.extra_headers == {"Message-ID": request.email_message_id, "Auto-Submitted": "auto-generated"}
    request.refresh_from_db()
    assert (request.email_status, request.email_attempts) == (FeedbackEmailStatus.SENT, 1)
    assert request.email_sent_at is not None


def test_norwegian_shopper_without_a_name_gets_the_default_greeting(test_installation):
    request = _nps_request(test_installation, language="NO")

    feedback_email_send(request_id=request.pk)

    assert mail.outbox[0].body.startswith("Hei kunde,")


def test_smtp_down_is_retryable_and_keeps_the_row_queued(test_installation, smtp_server, settings):
    # given
    settings.EMAIL_PORT = free_port()  # nothing listens there
    request = _nps_request(test_installation)

    # when
    with pytest.raises(RetryableError):
        feedback_email_send(request_id=request.pk)

    # then
    request.refresh_from_db()
    assert (request.email_status, request.email_attempts) == (FeedbackEmailStatus.QUEUED, 1)
    assert "ConnectionRefusedError" in request.email_error


def test_refused_recipient_fails_for_good(test_installation, smtp_server):
    # given
    smtp_server.refuse.add("gone@example.com")
    request = _nps_request(test_installation, email="gone@example.com")

    # when
    outcome = feedback_email_send(request_id=request.pk)

    # then
    assert outcome == "failed"
    request.refresh_from_db()
    assert request.email_status == FeedbackEmailStatus.FAILED
    assert "550" in request.email_error
    assert smtp_server.messages == []


def test_giving_up_after_retries_marks_it_failed_once(test_installation):
    request = _nps_request(test_installation)

    FeedbackEmailTask().on_failure(OSError("down"), "task-id", (request.pk,), {}, None)

    request.refresh_from_db()
    assert request.email_status == FeedbackEmailStatus.FAILED
    assert feedback_email_mark_failed(request_id=request.pk, error="again") is False


def test_cancelled_or_missing_requests_are_not_sent(test_installation):
    request = _nps_request(test_installation)
    FeedbackRequest.objects.filter(pk=request.pk).update(email_status=FeedbackEmailStatus.CANCELLED)

    assert feedback_email_send(request_id=request.pk) == "skipped:cancelled"
    assert feedback_email_send(request_id=10**9) == "missing"
    assert mail.outbox == []


def test_lost_sends_are_enqueued_again_but_not_those_in_retry(
    test_installation, other_installation, django_capture_on_commit_callbacks
):
    # given a queued request whose task got lost, one in Celery's retry backoff, and another shop's
    lost = _nps_request(test_installation)
    retrying = builders.answer(test_installation, "nps", None, answered_at=None, created_at=T0, email_status="queued")
    FeedbackRequest.objects.filter(pk=retrying.pk).update(email_attempts=1)
    builders.answer(other_installation, "nps", None, answered_at=None, created_at=T0, email_status="queued")

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        count = feedback_emails_requeue(installation=test_installation, now=T0 + timedelta(days=4, minutes=16))

    # then
    assert count == 1 and len(callbacks) == 1
    assert lost.email_status == FeedbackEmailStatus.QUEUED
