"""``POST /api/inbound-email/<token>``: inbound-mail providers hand us a shopper's e-mail.

Accepts a raw RFC 822 message (``Content-Type: message/rfc822``) or JSON (see README "E-mail"). The
token in the URL names the installation's mailbox. Every rejection is a 4xx with ``{"error": {code,
message}}`` and writes nothing.

Unlike Saleor webhooks (verify → persist → enqueue), the mail is filed in the request: filing is one
short database transaction with no network call, the provider retries on 5xx, and the Message-ID
receipt makes its retries (and the IMAP poller seeing the same mail) harmless. Answering with the case
number also lets an operator check a delivery by hand.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from saleor_support_plugin.errors import NoOpError, SupportError, SupportErrorCode
from saleor_support_plugin.mail import ParsedEmail, email_parse_rfc822, html_to_text, message_ids_parse
from saleor_support_plugin.services.inbound import email_inbound_receive
from saleor_support_plugin.services.mailboxes import inbound_mailbox_get_for_token
from saleor_support_plugin.webhooks.responses import error_response, simple_error

logger = logging.getLogger(__name__)


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filename: str = Field(default="", max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int | None = Field(default=None, ge=0)


class InboundEmailIn(BaseModel):
    """The JSON form of an inbound mail (field names as most inbound-mail providers can be mapped to)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sender: str = Field(alias="from", min_length=3, max_length=998)
    to: list[str] = Field(default_factory=list, max_length=100)
    subject: str = Field(default="", max_length=998)
    text: str = ""
    html: str = ""
    message_id: str = Field(default="", max_length=998)
    in_reply_to: str = Field(default="", max_length=998)
    references: list[str] = Field(default_factory=list, max_length=500)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)
    auto_submitted: bool = False

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("references", mode="before")
    @classmethod
    def _header_or_list(cls, value: object) -> object:
        return message_ids_parse(value) if isinstance(value, str) else value

    def parsed(self) -> ParsedEmail:
        return ParsedEmail(
            sender=self.sender,
            to=self.to,
            subject=self.subject,
            text=self.text or html_to_text(self.html),
            message_id=self.message_id,
            in_reply_to=self.in_reply_to,
            references=self.references,
            attachments=[a.model_dump() for a in self.attachments],
            auto_submitted=self.auto_submitted,
        )


def _read(request: HttpRequest, limit: int) -> bytes | None:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _parse(content_type: str, body: bytes) -> ParsedEmail | JsonResponse:
    if content_type == "message/rfc822":
        return email_parse_rfc822(body)
    if content_type != "application/json":
        return simple_error(415, SupportErrorCode.INVALID, "Send message/rfc822 or application/json.")
    try:
        return InboundEmailIn.model_validate(json.loads(body)).parsed()
    except (ValueError, TypeError) as exc:  # JSONDecodeError and pydantic's ValidationError are ValueErrors
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) if isinstance(exc, ValidationError) else ""
        return simple_error(400, SupportErrorCode.INVALID, f"Invalid e-mail JSON{f' ({field})' if field else ''}.")


@csrf_exempt
def inbound_email_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return simple_error(405, SupportErrorCode.INVALID, "Inbound e-mail must be POSTed.")
    mailbox = inbound_mailbox_get_for_token(token=token)
    if mailbox is None:
        return simple_error(404, SupportErrorCode.NOT_FOUND, "Unknown inbound e-mail address.")
    body = _read(request, settings.SUPPORT_INBOUND_EMAIL_MAX_BYTES)
    if body is None:
        return simple_error(413, SupportErrorCode.PAYLOAD_TOO_LARGE, "The e-mail exceeds the size limit.")
    try:
        parsed = _parse(request.content_type or "", body)
        if isinstance(parsed, JsonResponse):
            return parsed
        if parsed.auto_submitted:
            # Out-of-office answers and bounces would reopen cases and start mail loops; take them, file nothing.
            return JsonResponse({"success": True, "status": "ignored", "reason": "AUTO_SUBMITTED"})
        message = email_inbound_receive(installation=mailbox.installation, **parsed.receive_kwargs())
    except NoOpError as exc:
        return JsonResponse({"success": True, "status": "ignored", "reason": exc.code.value})
    except SupportError as exc:
        logger.info("inbound e-mail rejected: %s", exc, extra={"installation_id": mailbox.installation_id})
        return error_response(exc)
    return JsonResponse({"success": True, "status": "accepted", "case_number": message.case.number})
