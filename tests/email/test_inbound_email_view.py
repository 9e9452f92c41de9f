"""``POST /api/inbound-email/<token>``: raw and JSON mail accepted; every rejection is a 4xx that writes nothing."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from saleor_support_plugin.models import Case, CaseEvent, Customer, InboundEmail, Message
from saleor_support_plugin.services.mailboxes import inbound_mailbox_create
from tests.email.conftest import open_staff_case


@pytest.fixture
def mailbox(test_installation):
    mailbox, token = inbound_mailbox_create(installation=test_installation)
    return mailbox, token


def _post_json(client, token: str, payload: object, **extra):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(f"/api/inbound-email/{token}", data=body, content_type="application/json", **extra)


def _nothing_written() -> bool:
    return not (Case.objects.exists() or Message.objects.exists() or InboundEmail.objects.exists())


def test_json_mail_with_reply_token_lands_on_the_case(client, test_installation, mailbox):
    # given
    _, token = mailbox
    case = open_staff_case(test_installation)
    payload = {
        "from": "Ana <ana@example.com>",
        "to": f"case+{case.reply_token}@reply.shop.example.com",
        "subject": "Re: parcel",
        "text": "Got it, thanks\n\nOn Mon, 3 Jun 2024 at 10:00, Shop <s@x.com> wrote:\n> sent",
        "message_id": "<json-1@mail.example.com>",
        "references": "<a@x> <b@x>",
        "attachments": [{"filename": "receipt.pdf", "content_type": "application/pdf", "size": 1200}],
    }

    # when
    response = _post_json(client, token, payload)

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "status": "accepted", "case_number": case.number}
    message = Message.objects.get(email_message_id="<json-1@mail.example.com>")
    assert message.case_id == case.pk
    assert message.body == "Got it, thanks"
    assert message.attachments == [{"filename": "receipt.pdf", "content_type": "application/pdf", "size": 1200}]


def test_raw_rfc822_mail_opens_a_new_case(client, mailbox):
    # given
    _, token = mailbox
    msg = EmailMessage()
    msg["From"] = "Bruno <bruno@example.com>"
    msg["To"] = "support@shop.example.com"
    msg["Subject"] = "Wrong size delivered"
    msg["Message-ID"] = "<raw-1@mail.example.com>"
    msg.set_content("I got an M instead of an L.")

    # when
    response = client.post(f"/api/inbound-email/{token}", data=msg.as_bytes(), content_type="message/rfc822")
    again = client.post(f"/api/inbound-email/{token}", data=msg.as_bytes(), content_type="message/rfc822")

    # then
    assert response.status_code == 200, response.content
    assert again.json()["case_number"] == response.json()["case_number"]
    case = Case.objects.get()
    assert (case.subject, case.customer.email, case.source) == ("Wrong size delivered", "bruno@example.com", "email")
    assert case.messages.get().body == "I got an M instead of an L."


def test_unknown_token_is_404_and_writes_nothing(client, mailbox):
    response = _post_json(client, "not-the-token", {"from": "ana@example.com", "text": "hi"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert _nothing_written()


def test_inactive_mailbox_token_is_404(client, mailbox):
    box, token = mailbox
    box.is_active = False
    box.save(update_fields=["is_active"])
    assert _post_json(client, token, {"from": "ana@example.com", "text": "hi"}).status_code == 404
    assert _nothing_written()


def test_token_of_other_installation_cannot_reach_this_installations_cases(
    client, test_installation, other_installation
):
    # given
    _, other_token = inbound_mailbox_create(installation=other_installation)
    case = open_staff_case(test_installation)

    # when
    response = _post_json(client, other_token, {"from": "ana@example.com", "to": [f"case+{case.reply_token}@x"]})

    # then
    assert response.status_code == 200
    assert case.messages.count() == 1  # only its first message
    assert Case.objects.get(number=response.json()["case_number"], installation=other_installation)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (json.dumps({"to": ["x@y.com"], "text": "no sender"}).encode(), "application/json", 400),
        (json.dumps({"from": "not an address", "text": "hi"}).encode(), "application/json", 400),
        (json.dumps({"from": "a@example.com", "text": 5}).encode(), "application/json", 400),
        (json.dumps({"from": "a@example.com", "attachments": [{"size": -1}]}).encode(), "application/json", 400),
        (b"from=a@example.com", "application/x-www-form-urlencoded", 415),
    ],
)
def test_bad_input_is_4xx_with_an_error_and_writes_nothing(client, mailbox, body, content_type, status):
    # given
    _, token = mailbox

    # when
    response = client.post(f"/api/inbound-email/{token}", data=body, content_type=content_type)

    # then
    assert response.status_code == status, response.content
    assert set(response.json()["error"]) == {"code", "message"}
    assert _nothing_written()
    assert not Customer.objects.exists()
    assert not CaseEvent.objects.exists()


def test_oversized_body_is_413_and_writes_nothing(client, mailbox, settings):
    # given
    _, token = mailbox
    settings.SUPPORT_INBOUND_EMAIL_MAX_BYTES = 1000

    # when
    response = _post_json(client, token, {"from": "ana@example.com", "text": "x" * 2000})

    # then
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert _nothing_written()


def test_get_is_405(client, mailbox):
    _, token = mailbox
    assert client.get(f"/api/inbound-email/{token}").status_code == 405


def test_nul_bytes_are_not_a_server_error(client, mailbox):
    _, token = mailbox
    response = _post_json(client, token, {"from": "ana@example.com", "subject": "a\u0000b", "text": "x\u0000y"})
    assert response.status_code == 200
    assert Message.objects.get().body == "xy"


def test_mail_from_ourselves_is_answered_200_and_ignored(client, mailbox, settings):
    _, token = mailbox
    settings.DEFAULT_FROM_EMAIL = "support@shop.example.com"
    response = _post_json(client, token, {"from": "support@shop.example.com", "text": "loop"})
    assert response.json() == {"success": True, "status": "ignored", "reason": "SELF_ISSUED"}
    assert _nothing_written()


def test_out_of_office_answer_is_taken_but_not_filed(client, test_installation, mailbox):
    # given
    _, token = mailbox
    case = open_staff_case(test_installation)
    msg = EmailMessage()
    msg["From"], msg["To"] = "ana@example.com", f"case+{case.reply_token}@reply.shop.example.com"
    msg["Subject"], msg["Auto-Submitted"] = "Out of office", "auto-replied"
    msg.set_content("I am away until Monday.")

    # when
    response = client.post(f"/api/inbound-email/{token}", data=msg.as_bytes(), content_type="message/rfc822")

    # then
    assert response.json() == {"success": True, "status": "ignored", "reason": "AUTO_SUBMITTED"}
    assert case.messages.count() == 1
    assert not InboundEmail.objects.exists()
