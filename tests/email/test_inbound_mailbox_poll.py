"""The IMAP poller against a real dovecot: mail dropped into its Maildir ends up on cases."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from saleor_support_plugin.models import Case, InboundMailbox, Message
from saleor_support_plugin.services.inbound import email_inbound_receive
from saleor_support_plugin.services.mailboxes import inbound_mailbox_create, inbound_mailbox_poll
from saleor_support_plugin.tasks import inbound_mailboxes_poll_task
from tests.email.conftest import free_port, open_staff_case


def _mail(*, sender: str, to: str, subject: str, text: str, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    msg.set_content(text)
    return msg.as_bytes()


@pytest.fixture
def imap_user(dovecot):
    return dovecot.user()


@pytest.fixture
def imap_mailbox(test_installation, dovecot, imap_user, settings):
    settings.SUPPORT_IMAP_TIMEOUT_SECONDS = 5
    mailbox, _ = inbound_mailbox_create(
        installation=test_installation,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_username=imap_user.username,
        imap_password=imap_user.password,
        use_ssl=False,
    )
    return mailbox


def test_imap_round_trip(test_installation, imap_user, imap_mailbox):
    # given: an old, already read mail, a reply to a case, and a mail from a stranger
    case = open_staff_case(test_installation)
    imap_user.deliver(
        _mail(sender="old@example.com", to="support@x", subject="Old", text="read long ago", message_id="<old@x>"),
        seen=True,
    )
    imap_user.deliver(
        _mail(
            sender="Ana <ana@example.com>",
            to=f"case+{case.reply_token}@reply.shop.example.com",
            subject="Re: Where is my parcel?",
            text="Still nothing.\n\nOn Mon, 3 Jun 2024 at 10:00, Shop <s@x.com> wrote:\n> Soon",
            message_id="<imap-1@mail.example.com>",
        )
    )
    imap_user.deliver(
        _mail(sender="carla@example.com", to="support@x", subject="Gift wrap?", text="Hi", message_id="<imap-2@x>")
    )

    # when
    filed = inbound_mailbox_poll(mailbox_id=imap_mailbox.pk)

    # then: the read mail is not replayed on the first poll; the others are filed
    assert filed == 2
    assert Message.objects.get(email_message_id="<imap-1@mail.example.com>").case_id == case.pk
    assert Message.objects.get(email_message_id="<imap-1@mail.example.com>").body == "Still nothing."
    assert Case.objects.get(subject="Gift wrap?").customer.email == "carla@example.com"
    assert not Message.objects.filter(email_message_id="<old@x>").exists()
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_uid == 3
    assert imap_mailbox.uid_validity > 0
    assert imap_mailbox.last_error == ""
    assert imap_mailbox.poll_lease_until is None

    # when: nothing new, then one more mail
    assert inbound_mailbox_poll(mailbox_id=imap_mailbox.pk) == 0
    imap_user.deliver(
        _mail(
            sender="ana@example.com", to=f"case+{case.reply_token}@x", subject="Re", text="Here now", message_id="<3@x>"
        )
    )
    filed_later = inbound_mailbox_poll(mailbox_id=imap_mailbox.pk)

    # then
    assert filed_later == 1
    assert case.messages.filter(email_message_id="<3@x>").exists()
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_uid == 4


def test_mail_already_received_by_webhook_is_not_filed_twice(test_installation, imap_user, imap_mailbox):
    # given
    case = open_staff_case(test_installation)
    mail = {"sender": "ana@example.com", "to": f"case+{case.reply_token}@x", "subject": "Re", "text": "Hi"}
    email_inbound_receive(installation=test_installation, **{**mail, "to": [mail["to"]]}, message_id="<both@x>")
    imap_user.deliver(_mail(**mail, message_id="<both@x>"))

    # when
    inbound_mailbox_poll(mailbox_id=imap_mailbox.pk)

    # then
    assert Message.objects.filter(email_message_id="<both@x>").count() == 1


def test_unfileable_mail_is_skipped_past(test_installation, imap_user, imap_mailbox):
    # given
    imap_user.deliver(_mail(sender="no address here", to="support@x", subject="?", text="?", message_id="<bad@x>"))
    bounce = _mail(
        sender="MAILER-DAEMON@example.com", to="support@x", subject="Undelivered", text="x", message_id="<b>"
    )
    imap_user.deliver(bounce.replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:"))
    imap_user.deliver(_mail(sender="dan@example.com", to="support@x", subject="Hello", text="Hi", message_id="<ok@x>"))

    # when
    filed = inbound_mailbox_poll(mailbox_id=imap_mailbox.pk)

    # then
    assert filed == 1
    assert list(Case.objects.values_list("subject", flat=True)) == ["Hello"]
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_uid == 3


def test_wrong_password_is_recorded_on_the_mailbox(test_installation, dovecot, imap_user, settings):
    # given
    mailbox, _ = inbound_mailbox_create(
        installation=test_installation,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_username=imap_user.username,
        imap_password="wrong",
        use_ssl=False,
    )

    # when
    filed = inbound_mailbox_poll(mailbox_id=mailbox.pk)

    # then
    assert filed == 0
    mailbox.refresh_from_db()
    assert "IMAP login refused" in mailbox.last_error
    assert (mailbox.last_uid, mailbox.poll_lease_until) == (0, None)


def test_unreachable_server_is_recorded_on_the_mailbox(test_installation):
    # given
    mailbox, _ = inbound_mailbox_create(
        installation=test_installation, imap_host="127.0.0.1", imap_port=free_port(), use_ssl=False
    )

    # when
    filed = inbound_mailbox_poll(mailbox_id=mailbox.pk)

    # then
    assert filed == 0
    mailbox.refresh_from_db()
    assert "TEMPORARILY_UNAVAILABLE" in mailbox.last_error


def test_a_poll_in_progress_is_not_started_twice(test_installation, imap_mailbox):
    # given
    lease = timezone.now() + timedelta(seconds=60)
    InboundMailbox.objects.filter(pk=imap_mailbox.pk).update(poll_lease_until=lease)

    # when / then
    assert inbound_mailbox_poll(mailbox_id=imap_mailbox.pk) == 0


def test_beat_task_fans_out_to_pollable_mailboxes_only(test_installation, imap_mailbox, monkeypatch):
    # given: a webhook-only mailbox (no IMAP host) is not polled
    inbound_mailbox_create(installation=test_installation)
    from saleor_support_plugin import tasks

    enqueued = []
    monkeypatch.setattr(tasks.inbound_mailbox_poll_task, "delay", enqueued.append)

    # when
    count = inbound_mailboxes_poll_task()

    # then
    assert count == 1
    assert enqueued == [imap_mailbox.pk]
