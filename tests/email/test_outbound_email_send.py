"""Outbound e-mail through a real SMTP server (aiosmtpd on 127.0.0.1): what is sent is read back."""

from __future__ import annotations

import pytest

from saleor_support_plugin.errors import RetryableError
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import CaseEvent, CaseRule, OutboundEmail, OutboundEmailStatus
from saleor_support_plugin.services.cases import case_reply
from saleor_support_plugin.services.email import outbound_email_queue, outbound_email_send
from saleor_support_plugin.services.inbound import email_inbound_receive
from saleor_support_plugin.services.notices import notice_queue
from saleor_support_plugin.tasks import outbound_email_send_task
from tests.email.conftest import free_port, open_rule_case, open_staff_case

STAFF = Actor.staff(email="agent@shop.example.com", user_id="VXNlcjox")


def test_portuguese_order_notice_is_sent_in_portuguese_with_threading_headers(
    test_installation, smtp_server, django_capture_on_commit_callbacks
):
    # given
    case = open_rule_case(test_installation, language_code="PT_BR", customer_name="Ana Sousa", order_number="1042")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})
    assert len(callbacks) == 1  # the send task is enqueued on commit, not before

    # when
    outcome = outbound_email_send(email_id=email.pk)

    # then
    assert outcome == "sent"
    [sent] = smtp_server.messages
    assert sent["To"] == "ana@example.com"
    assert sent["From"] == "Shop Support <support@shop.example.com>"
    assert sent["Subject"] == "O pagamento da encomenda 1042 não foi concluído"
    assert sent["Reply-To"] == f"case+{case.reply_token}@reply.shop.example.com"
    assert sent["Message-ID"] == email.message_id
    assert sent["Auto-Submitted"] == "auto-generated"
    body = sent.get_content()
    assert "Olá Ana Sousa," in body
    assert "O pagamento de 49.90 EUR da sua encomenda 1042 não foi concluído" in body
    assert f"caso #{case.number}" in body
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmailStatus.SENT, 1)
    assert email.sent_at is not None
    assert CaseEvent.objects.filter(case=case, type="email_sent", parameters__email_id=email.pk).count() == 1


def test_staff_reply_threads_under_the_shoppers_last_mail(test_installation, smtp_server):
    # given
    case = open_staff_case(test_installation)
    email_inbound_receive(
        installation=test_installation,
        sender="Ana <ana@example.com>",
        to=[f"case+{case.reply_token}@reply.shop.example.com"],
        subject="Re: Where is my parcel?",
        text="Any news?",
        message_id="<shopper-1@mail.example.com>",
    )
    case_reply(case=case, body="It left our warehouse today.", actor=STAFF)
    email = OutboundEmail.objects.get(case=case, kind="reply")

    # when
    outbound_email_send(email_id=email.pk)

    # then
    [sent] = smtp_server.messages
    assert sent["Subject"] == f"[#{case.number}] Where is my parcel?"
    assert sent["In-Reply-To"] == "<shopper-1@mail.example.com>"
    assert "<shopper-1@mail.example.com>" in sent["References"]
    assert sent["Auto-Submitted"] is None
    assert sent.get_content().strip() == "It left our warehouse today."


def test_second_mail_references_the_first_one_we_sent(test_installation, smtp_server):
    # given
    case = open_staff_case(test_installation)
    first = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="One")
    outbound_email_send(email_id=first.pk)
    second = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="Two")

    # when
    outbound_email_send(email_id=second.pk)

    # then
    assert smtp_server.messages[0]["In-Reply-To"] is None
    assert smtp_server.messages[1]["In-Reply-To"] == first.message_id
    assert first.message_id != second.message_id


def test_smtp_server_down_is_retryable_and_the_row_stays_queued(test_installation, smtp_server, settings):
    # given
    settings.EMAIL_PORT = free_port()  # nothing listens there
    case = open_staff_case(test_installation)
    email = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="Hello")

    # when
    with pytest.raises(RetryableError):
        outbound_email_send(email_id=email.pk)

    # then
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.QUEUED
    assert email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    assert not CaseEvent.objects.filter(case=case, type__in=("email_sent", "email_failed")).exists()


def test_recipient_refused_marks_the_email_failed_with_an_event(test_installation, smtp_server):
    # given
    smtp_server.refuse.add("gone@example.com")
    case = open_staff_case(test_installation, customer_email="gone@example.com")
    email = outbound_email_queue(case=case, kind="reply", to_email="gone@example.com", body="Hello")

    # when
    outcome = outbound_email_send(email_id=email.pk)

    # then
    assert outcome == "failed"
    assert smtp_server.messages == []
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.FAILED
    assert "550" in email.last_error
    event = CaseEvent.objects.get(case=case, type="email_failed")
    assert event.parameters["email_id"] == email.pk


def test_a_sent_email_is_not_sent_again(test_installation, smtp_server):
    # given
    case = open_staff_case(test_installation)
    email = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="Hello")
    outbound_email_send(email_id=email.pk)

    # when
    outcome = outbound_email_send(email_id=email.pk)

    # then
    assert outcome == "skipped:sent"
    assert len(smtp_server.messages) == 1


def test_giving_up_after_retries_marks_the_email_failed(test_installation, settings):
    # given
    case = open_staff_case(test_installation)
    email = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="Hello")
    exc = RetryableError("TEMPORARILY_UNAVAILABLE", "SMTP unavailable")

    # when: Celery calls the task's failure hook once max_retries is exhausted
    outbound_email_send_task.on_failure(exc, "task-id", (email.pk,), {}, None)

    # then
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.FAILED
    assert email.last_error.startswith("gave up: RetryableError")
    assert CaseEvent.objects.filter(case=case, type="email_failed").count() == 1


def test_file_backend_of_make_run_writes_the_mail_under_var_mail(test_installation, settings, tmp_path):
    # given
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    case = open_staff_case(test_installation)
    email = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="Hello from make run")

    # when
    outbound_email_send(email_id=email.pk)

    # then
    [written] = list((tmp_path / "mail").iterdir())
    assert "Hello from make run" in written.read_text()
