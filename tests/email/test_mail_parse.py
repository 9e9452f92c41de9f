"""Raw RFC 822 parsing and quote stripping (no database)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.mail import email_parse_rfc822, message_id_normalize, text_strip_quoted


def _raw_reply() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana Sousa <ana@example.com>"
    msg["To"] = "Shop <case+abc123def456abc123def456@reply.shop.example.com>"
    msg["Cc"] = "friend@example.com"
    msg["Subject"] = "Re: [#7] Où est mon colis ?"
    msg["Message-ID"] = "<reply-1@mail.example.com>"
    msg["In-Reply-To"] = "<sent-1@reply.shop.example.com>"
    msg["References"] = "<a@x> <sent-1@reply.shop.example.com>"
    msg.set_content("Merci, c'est arrivé.\n\nLe lun. 3 juin 2024 à 10:02, Shop a écrit :\n> Votre colis…\n")
    msg.add_alternative("<p>Merci, c'est arrivé.</p>", subtype="html")
    msg.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="colis.png")
    return msg.as_bytes()


def test_raw_message_is_parsed_into_fields():
    # when
    parsed = email_parse_rfc822(_raw_reply())

    # then
    assert parsed.sender == "Ana Sousa <ana@example.com>"
    assert parsed.to == ["case+abc123def456abc123def456@reply.shop.example.com", "friend@example.com"]
    assert parsed.subject == "Re: [#7] Où est mon colis ?"
    assert parsed.message_id == "<reply-1@mail.example.com>"
    assert parsed.in_reply_to == "<sent-1@reply.shop.example.com>"
    assert parsed.references == ["<a@x>", "<sent-1@reply.shop.example.com>"]
    assert parsed.text.startswith("Merci, c'est arrivé.")
    assert parsed.attachments == [{"filename": "colis.png", "content_type": "image/png", "size": 8}]
    assert text_strip_quoted(parsed.text) == "Merci, c'est arrivé."


def test_html_only_mail_becomes_text():
    msg = EmailMessage()
    msg["From"] = "ana@example.com"
    msg.set_content("<html><head><style>p{}</style></head><body><p>Hello</p><p>World &amp; co</p></body></html>",
                    subtype="html")  # fmt: skip
    assert email_parse_rfc822(msg.as_bytes()).text == "Hello\nWorld & co"


def test_garbage_is_parsed_without_crashing():
    parsed = email_parse_rfc822(b"\xff\xfe not a mail at all")
    assert parsed.sender == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Tue, Jun 4, 2024 at 9:15 AM Shop <s@x.com> wrote:\n> old", "Thanks!"),
        ("Danke\n\nAm 04.06.2024 um 09:15 schrieb Shop <s@x.com>:\n> alt", "Danke"),
        ("Obrigada\n\nEm ter., 4 de jun. de 2024 às 09:15, Loja escreveu:\n> antigo", "Obrigada"),
        ("Gracias\n\nEl mar, 4 jun 2024 a las 9:15, Tienda escribió:\n> viejo", "Gracias"),
        ("Takk\n\nDen tir. 4. jun. 2024 kl. 09:15 skrev Butikk <s@x.com>:\n> gammel", "Takk"),
        ("Fine\n\n-----Original Message-----\nFrom: Shop\nSent: today", "Fine"),
        ("On Monday I wrote: the parcel is late.", "On Monday I wrote: the parcel is late."),
        ("On Monday my sister wrote:\nIt is late.", "On Monday my sister wrote:\nIt is late."),
        ("> only a quote", "> only a quote"),
    ],
)
def test_quoted_text_is_stripped(text, expected):
    assert text_strip_quoted(text) == expected


def test_message_ids_are_normalised():
    assert message_id_normalize(" abc@x ") == "<abc@x>"
    assert message_id_normalize("<abc@x>") == "<abc@x>"
    assert message_id_normalize("") == ""


def test_parse_errors_are_permanent(monkeypatch):
    # The stdlib parser can raise on hostile input; such a mail is refused, never a crash.
    with pytest.raises(PermanentError):
        email_parse_rfc822(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "content_type", "expected"),
    [
        ({}, "text/plain", False),
        ({"Auto-Submitted": "no"}, "text/plain", False),
        ({"Auto-Submitted": "auto-replied"}, "text/plain", True),
        ({"Precedence": "bulk"}, "text/plain", True),
        ({"X-Autoreply": "yes"}, "text/plain", True),
        ({}, "multipart/report", True),
    ],
)
def test_automatic_mail_is_recognised(headers, content_type, expected):
    raw = "".join(f"{k}: {v}\r\n" for k, v in {"From": "a@example.com", **headers}.items())
    raw += f"Content-Type: {content_type}; boundary=b\r\n\r\nbody\r\n"
    assert email_parse_rfc822(raw.encode()).auto_submitted is expected
