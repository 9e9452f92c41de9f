"""Shoppers' e-mail into cases: routing by reply token or thread headers, else a new case.

Inbound mail reaches ``email_inbound_receive`` from the provider webhook (``webhooks/inbound_views.py``)
and from the IMAP poller (``services/mailboxes.py``); both hand over the same parsed fields.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction

from saleor_support_plugin.errors import NoOpError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.mail import attachments_metadata, message_id_normalize, message_ids_parse, text_strip_quoted
from saleor_support_plugin.models import (
    Case,
    CaseReason,
    CaseSource,
    CaseStatus,
    InboundEmail,
    Installation,
    Message,
    MessageChannel,
    OutboundEmail,
)
from saleor_support_plugin.services.cases import MAX_BODY, case_message_receive, case_open
from saleor_support_plugin.services.customers import normalize_email

logger = logging.getLogger(__name__)

_TOKEN_ADDRESS = re.compile(r"^case\+([0-9a-z]{8,64})@", re.IGNORECASE)
_SUBJECT_CASE_NUMBER = re.compile(r"\[#(\d{1,9})\]")
MAX_THREAD_IDS = 20
MAX_MERGE_HOPS = 5


def _body(text: str, attachments: list[dict]) -> str:
    body = text_strip_quoted(text)[:MAX_BODY]
    if body:
        return body
    # A mail with only a photo of the damaged parcel is still a message on the case.
    return f"(no text, {len(attachments)} attachment(s))" if attachments else "(empty message)"


def _case_by_token(installation: Installation, to: Sequence[str]) -> Case | None:
    for address in to:
        match = _TOKEN_ADDRESS.match(parseaddr(address)[1].strip())
        # A token of another installation finds nothing here: the mail is treated as not addressed to a case.
        case = match and Case.objects.filter(installation=installation, reply_token=match.group(1).lower()).first()
        if case:
            return case
    return None


def _case_by_thread(installation: Installation, thread_ids: list[str]) -> Case | None:
    if not thread_ids:
        return None
    ours = dict(
        OutboundEmail.objects.filter(installation=installation, message_id__in=thread_ids).values_list(
            "message_id", "case_id"
        )
    )
    theirs = dict(
        Message.objects.filter(case__installation=installation, email_message_id__in=thread_ids).values_list(
            "email_message_id", "case_id"
        )
    )
    case_id = next((ours.get(mid) or theirs.get(mid) for mid in thread_ids if mid in ours or mid in theirs), None)
    return Case.objects.filter(pk=case_id).first() if case_id else None


def _case_by_subject(installation: Installation, subject: str, sender: str) -> Case | None:
    """A "[#42]" in the subject, only when the sender is that case's customer (numbers are guessable)."""
    match = _SUBJECT_CASE_NUMBER.search(subject)
    if not match:
        return None
    return Case.objects.filter(installation=installation, number=int(match.group(1)), customer__email=sender).first()


def _follow_merges(case: Case) -> Case:
    for _ in range(MAX_MERGE_HOPS):
        if case.merged_into_id is None:
            break
        case = Case.objects.get(pk=case.merged_into_id)
    return case


def _route(
    installation: Installation, *, to: Sequence[str], thread_ids: list[str], subject: str, sender: str
) -> Case | None:
    case = (
        _case_by_token(installation, to)
        or _case_by_thread(installation, thread_ids)
        or _case_by_subject(installation, subject, sender)
    )
    return _follow_merges(case) if case else None


def _is_self_issued(sender: str) -> bool:
    ours = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    return sender == ours or bool(_TOKEN_ADDRESS.match(sender))


def _receipt_claim(installation: Installation, message_id: str) -> InboundEmail | None:
    """Record that this Message-ID arrived; None if it had arrived before (the unique constraint says so)."""
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(installation=installation, email_message_id=message_id)
    except IntegrityError:
        return None


def _duplicate(installation: Installation, message_id: str) -> Message:
    receipt = InboundEmail.objects.select_related("message").get(installation=installation, email_message_id=message_id)
    if receipt.message is None:
        raise NoOpError(SupportErrorCode.DUPLICATE, "This e-mail was received before; its case is gone.")
    return receipt.message


def email_inbound_receive(
    *,
    installation: Installation,
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    message_id: str = "",
    in_reply_to: str = "",
    references: Sequence[str] = (),
    attachments: Sequence[dict] = (),
) -> Message:
    """File a shopper's e-mail on the right case of ``installation``, opening one when none fits.

    Routing: a ``case+<token>@`` recipient of this installation, else In-Reply-To / References matching
    a Message-ID we sent or received, else "[#n]" in the subject from that case's customer, else a new
    case (source e-mail). A closed case gets a new case that names it. The same Message-ID twice returns
    the first Message. Quoted reply text is stripped; only attachment metadata is kept.
    Writes: InboundEmail, Customer/Case/CaseEvents (new case), Message, Case status (waiting → open).
    Raises PermanentError for an invalid sender, NoOpError for mail we sent ourselves.
    """
    # PostgreSQL text cannot hold NUL; hostile or broken mail can.
    name, address = (part.replace("\x00", "") for part in parseaddr(sender.replace("\x00", "")))
    address = normalize_email(address)
    subject, text = (subject or "").replace("\x00", ""), (text or "").replace("\x00", "")
    if _is_self_issued(address):
        raise NoOpError(SupportErrorCode.SELF_ISSUED, "Mail from our own address is not a customer message.")
    message_id = message_id_normalize(message_id)
    references = message_ids_parse(references) if isinstance(references, str) else list(references)
    thread_ids = message_ids_parse([in_reply_to, *reversed(references)])[:MAX_THREAD_IDS]
    meta = attachments_metadata(list(attachments))
    body = _body(text, meta)
    subject = " ".join(subject.split())[:255]
    with transaction.atomic():
        receipt = _receipt_claim(installation, message_id) if message_id else None
        if message_id and receipt is None:
            return _duplicate(installation, message_id)
        case = _route(installation, to=to, thread_ids=thread_ids, subject=subject, sender=address)
        if case is None or case.status == CaseStatus.CLOSED:
            body = f"(Follow-up to closed case #{case.number})\n\n{body}" if case else body
            case = _case_open_for_email(installation, previous=case, subject=subject, sender=address, name=name)
        message = case_message_receive(
            case=case,
            body=body,
            channel=MessageChannel.EMAIL,
            author_email=address,
            author_name=name,
            subject=subject,
            attachments=meta,
            email_message_id=message_id,
        )
        if receipt is not None:
            receipt.message = message
            receipt.save(update_fields=["message"])
    logger.info("inbound e-mail filed", extra={"case_id": case.pk, "installation_id": installation.pk})
    return message


def _case_open_for_email(
    installation: Installation, *, previous: Case | None, subject: str, sender: str, name: str
) -> Case:
    return case_open(
        installation=installation,
        subject=subject or f"E-mail from {sender}",
        reason=CaseReason.OTHER,
        source=CaseSource.EMAIL,
        actor=Actor.customer(email=sender),
        customer_email=sender,
        customer_name=name,
        language_code=previous.language_code if previous else "",
        order_saleor_id=previous.order_saleor_id if previous else "",
        order_number=previous.order_number if previous else "",
    )
