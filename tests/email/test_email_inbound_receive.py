"""Routing shoppers' e-mail into cases: token, thread headers, new cases, tenancy, duplicates."""

from __future__ import annotations

import pytest

from saleor_support_plugin.errors import NoOpError, PermanentError
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CaseSource,
    CaseStatus,
    InboundEmail,
    Message,
    MessageChannel,
    MessageDirection,
)
from saleor_support_plugin.services.cases import case_merge, case_status_set
from saleor_support_plugin.services.email import outbound_email_queue
from saleor_support_plugin.services.inbound import email_inbound_receive
from tests.email.conftest import open_staff_case

STAFF = Actor.staff(email="agent@shop.example.com")


def _receive(installation, **overrides) -> Message:
    fields = {
        "sender": "Ana Sousa <ana@example.com>",
        "to": ["support@shop.example.com"],
        "subject": "Question",
        "text": "Hello",
        "message_id": "",
    }
    return email_inbound_receive(installation=installation, **{**fields, **overrides})


def test_reply_with_token_lands_on_its_case_and_reopens_it(test_installation):
    # given
    case = open_staff_case(test_installation)
    case_status_set(case=case, status=CaseStatus.PENDING_CUSTOMER, actor=STAFF)

    # when
    message = _receive(
        test_installation,
        to=[f"Shop Support <case+{case.reply_token}@reply.shop.example.com>"],
        subject="Re: [#1] Where is my parcel?",
        text="It arrived, thanks!",
        message_id="<r1@mail.example.com>",
    )

    # then
    case.refresh_from_db()
    assert message.case_id == case.pk
    assert case.status == CaseStatus.OPEN
    assert (message.channel, message.direction) == (MessageChannel.EMAIL, MessageDirection.INBOUND)
    assert (message.author_email, message.author_name) == ("ana@example.com", "Ana Sousa")
    assert message.email_message_id == "<r1@mail.example.com>"
    assert CaseEvent.objects.filter(case=case, type="message_received", parameters__message_id=message.pk).exists()


def test_in_reply_to_our_email_threads_into_the_case(test_installation):
    # given
    case = open_staff_case(test_installation)
    sent = outbound_email_queue(case=case, kind="reply", to_email="ana@example.com", body="We are on it.")

    # when
    message = _receive(test_installation, in_reply_to=sent.message_id, text="Great")

    # then
    assert message.case_id == case.pk


def test_references_to_an_earlier_shopper_mail_thread_into_the_case(test_installation):
    # given
    case = open_staff_case(test_installation)
    _receive(test_installation, to=[f"case+{case.reply_token}@x"], message_id="<first@mail.example.com>")

    # when
    message = _receive(
        test_installation, message_id="<second@mail.example.com>", references=["<unknown@x>", "first@mail.example.com"]
    )

    # then
    assert message.case_id == case.pk


def test_unknown_sender_opens_a_new_email_case(test_installation):
    # given
    before = Case.objects.count()

    # when
    message = _receive(
        test_installation,
        sender="Bruno <Bruno@Example.com>",
        subject="Do you ship to Norway?",
        text="Hi, do you ship to Norway?",
        message_id="<new@mail.example.com>",
        attachments=[{"filename": "cart.png", "content_type": "image/png", "size": 2048, "content": "aGk="}],
    )

    # then
    case = message.case
    assert Case.objects.count() == before + 1
    assert (case.source, case.reason, case.status) == (CaseSource.EMAIL, "other", CaseStatus.NEW)
    assert case.subject == "Do you ship to Norway?"
    assert case.customer.email == "bruno@example.com"
    assert case.customer.name == "Bruno"
    assert message.body == "Hi, do you ship to Norway?"
    assert message.attachments == [{"filename": "cart.png", "content_type": "image/png", "size": 2048}]
    assert CaseEvent.objects.filter(case=case, type="case_opened").exists()


def test_other_installations_token_is_not_accepted(test_installation, other_installation):
    # given
    foreign = open_staff_case(other_installation)
    foreign_messages = foreign.messages.count()

    # when
    message = _receive(test_installation, to=[f"case+{foreign.reply_token}@reply.shop.example.com"])

    # then
    assert message.case.installation_id == test_installation.pk
    assert message.case_id != foreign.pk
    assert foreign.messages.count() == foreign_messages


def test_other_installations_message_ids_do_not_thread(test_installation, other_installation):
    # given
    foreign = open_staff_case(other_installation)
    sent = outbound_email_queue(case=foreign, kind="reply", to_email="ana@example.com", body="Hi")

    # when
    message = _receive(test_installation, in_reply_to=sent.message_id)

    # then
    assert message.case.installation_id == test_installation.pk


def test_same_mail_delivered_twice_is_one_message(test_installation):
    # given
    case = open_staff_case(test_installation)
    mail = {"to": [f"case+{case.reply_token}@x"], "message_id": "<twice@mail.example.com>", "text": "Once"}
    first = _receive(test_installation, **mail)

    # when
    second = _receive(test_installation, **{**mail, "message_id": "twice@mail.example.com"})

    # then
    assert second.pk == first.pk
    assert Message.objects.filter(email_message_id="<twice@mail.example.com>").count() == 1
    assert InboundEmail.objects.count() == 1


def test_same_message_id_in_two_installations_is_two_messages(test_installation, other_installation):
    first = _receive(test_installation, message_id="<shared@mail.example.com>")
    second = _receive(other_installation, message_id="<shared@mail.example.com>")
    assert first.pk != second.pk


def test_quoted_reply_text_is_stripped(test_installation):
    # given
    case = open_staff_case(test_installation)
    text = (
        "Yes, please send a new one.\n"
        "> inline quote\n"
        "Thanks\n"
        "\n"
        "On Mon, 3 Jun 2024 at 10:02, Shop Support <\n"
        "support@shop.example.com> wrote:\n"
        "> We can send a replacement.\n"
    )

    # when
    message = _receive(test_installation, to=[f"case+{case.reply_token}@x"], text=text)

    # then
    assert message.body == "Yes, please send a new one.\nThanks"


def test_closed_case_gets_a_new_case_naming_the_old_one(test_installation):
    # given
    case = open_staff_case(test_installation)
    case_status_set(case=case, status=CaseStatus.CLOSED, actor=STAFF)

    # when
    message = _receive(test_installation, to=[f"case+{case.reply_token}@x"], text="It broke again")

    # then
    assert message.case_id != case.pk
    assert message.body == f"(Follow-up to closed case #{case.number})\n\nIt broke again"
    assert message.case.customer_id == case.customer_id


def test_reply_to_a_merged_case_lands_on_the_case_it_was_merged_into(test_installation):
    # given
    source, target = open_staff_case(test_installation), open_staff_case(test_installation)
    case_merge(source=source, target=target, actor=STAFF)

    # when
    message = _receive(test_installation, to=[f"case+{source.reply_token}@x"])

    # then
    assert message.case_id == target.pk


def test_subject_tag_routes_only_for_that_cases_customer(test_installation):
    # given
    case = open_staff_case(test_installation)

    # when
    own = _receive(test_installation, subject=f"Re: [#{case.number}] parcel", sender="ana@example.com")
    stranger = _receive(test_installation, subject=f"Re: [#{case.number}] parcel", sender="eve@example.com")

    # then
    assert own.case_id == case.pk
    assert stranger.case_id != case.pk


def test_attachment_only_mail_is_still_a_message(test_installation):
    message = _receive(
        test_installation, text="", attachments=[{"filename": "box.jpg", "content_type": "image/jpeg", "size": 9}]
    )
    assert message.body == "(no text, 1 attachment(s))"


def test_invalid_sender_is_refused_and_nothing_is_written(test_installation):
    with pytest.raises(PermanentError):
        _receive(test_installation, sender="not an address", message_id="<bad@x>")
    assert not InboundEmail.objects.exists()
    assert not Case.objects.exists()


def test_mail_from_our_own_address_is_ignored(test_installation, settings):
    settings.DEFAULT_FROM_EMAIL = "Shop <support@shop.example.com>"
    with pytest.raises(NoOpError):
        _receive(test_installation, sender="support@shop.example.com")
    assert not Case.objects.exists()
