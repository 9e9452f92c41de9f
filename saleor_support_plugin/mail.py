"""Inbound mail at the boundary: raw RFC 822 bytes → a typed ``ParsedEmail``; reply text without the quote.

Used by the inbound-mail webhook (``webhooks/inbound_views.py``) and the IMAP poller; nothing here touches
the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

from saleor_support_plugin.errors import PermanentError, SupportErrorCode

MAX_ATTACHMENTS = 100
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Headers that may carry our case+<token>@ address: visible recipients, and the envelope recipient that
# MTAs record when the address was in Bcc or reached us through forwarding.
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    sender: str
    to: list[str]
    subject: str
    text: str
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    # An out-of-office answer, a bounce or a read receipt: not the shopper speaking (RFC 3834, RFC 3464).
    auto_submitted: bool = False

    def receive_kwargs(self) -> dict:
        """The fields ``email_inbound_receive`` takes."""
        return {name: getattr(self, name) for name in _RECEIVE_FIELDS}


_RECEIVE_FIELDS = ("sender", "to", "subject", "text", "message_id", "in_reply_to", "references", "attachments")


def message_id_normalize(raw: str) -> str:
    """``abc@x`` or ``<abc@x>`` → ``<abc@x>`` (the form we store); empty stays empty."""
    value = (raw or "").replace("\x00", "").strip()
    found = _MESSAGE_ID.search(value)
    if found:
        return found.group(0)[:255]
    value = "".join(value.split()).strip("<>")
    return f"<{value}>"[:255] if value else ""


def message_ids_parse(raw: str | list[str]) -> list[str]:
    """A References header (or a list of ids) → normalised ids in header order."""
    values = raw if isinstance(raw, list) else _MESSAGE_ID.findall(raw or "") or (raw or "").split()
    return [mid for mid in (message_id_normalize(str(v)) for v in values) if mid]


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Good enough plain text of an HTML-only mail: tags dropped, block elements become line breaks."""
    extractor = _TextExtractor()
    extractor.feed(html or "")
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_LEADS = r"(?:On|Am|Em|El|Le|Den|Op|Il|W dniu)"
_VERBS = r"(?:wrote|schrieb|escreveu|escribió|a écrit|skrev|schreef|ha scritto|napisał)"
# "On <date>, <who> wrote:" (German and Norwegian put the verb before the name). An attribution carries a
# date, so "On Monday I wrote:" in the shopper's own text does not cut it.
_ATTRIBUTION = re.compile(rf"^(?=.*\d)\s*{_LEADS}\s.*{_VERBS}.*:\s*$", re.IGNORECASE | re.DOTALL)
_SEPARATOR = re.compile(
    r"^\s*(?:-{3,}\s*(?:Original Message|Ursprüngliche Nachricht|Mensagem original|Mensaje original|"
    r"Opprinnelig melding|Message d'origine)\s*-{3,}|_{20,})\s*$",
    re.IGNORECASE,
)


def _quote_starts(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SEPARATOR.match(line) or _ATTRIBUTION.match(line):
        return True
    # Clients wrap a long attribution ("On Mon, 3 Jun 2024 at 10:02, Shop <\nsupport@shop.com> wrote:").
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return bool(following) and bool(_ATTRIBUTION.match(f"{line} {following}")) and not _ATTRIBUTION.match(following)


def text_strip_quoted(text: str) -> str:
    """The shopper's own words: cut at the first "On … wrote:" / "Original Message" line, drop "> " lines.

    When nothing would be left (the mail is all quote), the whole text is kept rather than lose content.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _quote_starts(lines, index):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    stripped = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return stripped or (text or "").strip()


def attachments_metadata(items: list) -> list[dict]:
    """Only what we keep of attachments: filename, content type and size (the files are not stored)."""
    meta = []
    for item in list(items)[:MAX_ATTACHMENTS]:
        if not isinstance(item, dict):
            continue
        size = item.get("size")
        meta.append(
            {
                "filename": str(item.get("filename") or "").replace("\x00", "")[:255],
                "content_type": str(item.get("content_type") or "application/octet-stream").replace("\x00", "")[:255],
                "size": size if isinstance(size, int) and size >= 0 else None,
            }
        )
    return meta


def _part_text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")


def _body_text(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        return _part_text(plain)
    html = message.get_body(preferencelist=("html",))
    return html_to_text(_part_text(html)) if html is not None else ""


def _attachments(message: EmailMessage) -> list[dict]:
    found = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        found.append(
            {
                "filename": part.get_filename() or "",
                "content_type": part.get_content_type(),
                "size": len(payload) if isinstance(payload, bytes) else 0,
            }
        )
    return attachments_metadata(found)


def _is_auto_submitted(message: EmailMessage) -> bool:
    auto = str(message.get("Auto-Submitted") or "no").strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    return (
        auto != "no"
        or message.get_content_type() == "multipart/report"
        or precedence in ("bulk", "junk", "auto_reply")
        or any(message.get(name) is not None for name in ("X-Autoreply", "X-Autorespond"))
    )


def email_parse_rfc822(raw: bytes) -> ParsedEmail:
    """Parse one raw message (as an inbound provider posts it or IMAP returns it). Raises PermanentError."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        sender = str(message.get("From") or "")
        recipients = [str(v) for name in _RECIPIENT_HEADERS for v in message.get_all(name) or []]
        return ParsedEmail(
            sender=sender,
            to=[address for _, address in getaddresses(recipients) if address],
            subject=" ".join(str(message.get("Subject") or "").split()),
            text=_body_text(message),
            message_id=message_id_normalize(str(message.get("Message-ID") or "")),
            in_reply_to=message_id_normalize(str(message.get("In-Reply-To") or "")),
            references=message_ids_parse(str(message.get("References") or "")),
            attachments=_attachments(message),
            auto_submitted=_is_auto_submitted(message),
        )
    except PermanentError:
        raise
    except Exception as exc:  # the stdlib parser raises a zoo of types on hostile input
        raise PermanentError(SupportErrorCode.INVALID, f"Unreadable e-mail: {type(exc).__name__}.") from exc
