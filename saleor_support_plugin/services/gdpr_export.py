"""The export document of ``customer_data_export``: what we hold on one shopper, JSON-ready.

What is in it and why:
- their Customer rows, every case of theirs with its messages, tags, timeline and the e-mails we sent;
- internal notes on their cases: they are staff's record about this person, which the right of access
  (GDPR Art. 15) covers. The export goes to staff, not straight to the shopper, so the merchant can still
  withhold what an exemption allows (legal advice, others' data) before handing it over;
- messages they wrote on other people's cases, their survey answers, and the orders and checkouts we
  keep a copy of (with the address and lines they carry).
Staff are named by role, not by e-mail: the shopper is owed their own data, not the team's addresses.
Raw webhook bodies are not repeated: the snapshots are the parsed form of the same data.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils import timezone

from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CheckoutSnapshot,
    Message,
    MessageDirection,
    OrderSnapshot,
    OutboundEmail,
)

if TYPE_CHECKING:
    from saleor_support_plugin.services.gdpr import DataSubject

FORMAT = "saleor-support-plugin/customer-data/v1"
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _message(message: Message) -> dict:
    own = message.direction == MessageDirection.INBOUND
    return {
        "created_at": _iso(message.created_at),
        "direction": message.direction,
        "channel": message.channel,
        "author": message.author_email if own else "staff",
        "author_name": message.author_name if own else "",
        "subject": message.subject,
        "body": message.body,
        "attachments": message.attachments,
    }


def _others_redacted(value: object, emails: frozenset[str]) -> object:
    """Timeline parameters name staff (an assignee) or other people by address; only the subject's stay."""
    if isinstance(value, dict):
        return {key: _others_redacted(item, emails) for key, item in value.items()}
    if isinstance(value, list):
        return [_others_redacted(item, emails) for item in value]
    if isinstance(value, str) and _ADDRESS.search(value) and value.lower() not in emails:
        return "[redacted]"
    return value


def _event(event: CaseEvent, emails: frozenset[str]) -> dict:
    actor = event.actor_email if event.actor_email.lower() in emails else event.actor_type
    parameters = _others_redacted(event.parameters, emails)
    return {"created_at": _iso(event.created_at), "type": event.type, "actor": actor, "parameters": parameters}


def _case(case: Case, emails: frozenset[str]) -> dict:
    return {
        "number": case.number,
        "subject": case.subject,
        "status": case.status,
        "reason": case.reason,
        "source": case.source,
        "order_number": case.order_number,
        "language_code": case.language_code,
        "created_at": _iso(case.created_at),
        "first_responded_at": _iso(case.first_responded_at),
        "resolved_at": _iso(case.resolved_at),
        "closed_at": _iso(case.closed_at),
        "value_at_risk": _money(case.value_at_risk),
        "recovered_amount": _money(case.recovered_amount),
        "currency": case.currency,
        "tags": [tag.name for tag in case.tags.all()],
        "messages": [_message(message) for message in case.messages.all()],
        "notes": [{"created_at": _iso(note.created_at), "body": note.body} for note in case.notes.all()],
        "events": [_event(event, emails) for event in case.events.all()],
        "emails_sent": [
            {
                "created_at": _iso(e.created_at),
                "to": e.to_email,
                "subject": e.subject,
                "body": e.body,
                "status": e.status,
            }
            for e in case.emails.all()
        ],
    }


def _order(order: OrderSnapshot) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "channel": order.channel_slug,
        "created_at": _iso(order.saleor_created_at),
        "email": order.user_email,
        "currency": order.currency,
        "total": _money(order.total_gross),
        "shipping_address": order.shipping_address,
        "lines": [
            {"product": line.get("productName"), "variant": line.get("variantName"), "quantity": line.get("quantity")}
            for line in order.lines
        ],
        "fulfillments": [
            {"status": f.get("status"), "tracking_number": f.get("trackingNumber"), "created": f.get("created")}
            for f in order.fulfillments
        ],
    }


def _checkout(checkout: CheckoutSnapshot) -> dict:
    return {
        "created_at": _iso(checkout.saleor_created_at),
        "email": checkout.email,
        "channel": checkout.channel_slug,
        "currency": checkout.currency,
        "total": _money(checkout.total_gross),
        "shipping_address": checkout.shipping_address,
        "lines": checkout.lines,
    }


def customer_data_document(*, subject: DataSubject) -> dict:
    """The export document for ``subject`` (read-only; about ten queries whatever the number of cases)."""
    cases = (
        Case.objects.filter(pk__in=subject.case_ids)
        .order_by("created_at", "pk")
        .prefetch_related(
            "tags",
            "notes",
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "pk")),
            Prefetch("events", queryset=CaseEvent.objects.order_by("created_at", "pk")),
            Prefetch("emails", queryset=OutboundEmail.objects.order_by("created_at", "pk")),
        )
    )
    feedback = subject.feedback().select_related("case").order_by("created_at", "pk")
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "saleor_api_url": subject.installation.saleor_api_url,
        "email": subject.email,
        "customers": [
            {
                "email": c.email,
                "name": c.name,
                "saleor_user_id": c.saleor_user_id,
                "language_code": c.language_code,
                "created_at": _iso(c.created_at),
            }
            for c in subject.customers
        ],
        "cases": [_case(case, subject.emails) for case in cases],
        "messages_on_other_cases": [
            {"case_number": m.case.number, **_message(m)}
            for m in subject.messages_elsewhere().select_related("case").order_by("created_at", "pk")
        ],
        "feedback": [
            {
                "kind": f.kind,
                "case_number": f.case.number if f.case else None,
                "order_number": f.order_number,
                "asked_at": _iso(f.created_at),
                "score": f.score,
                "comment": f.comment,
                "answered_at": _iso(f.answered_at),
            }
            for f in feedback
        ],
        "orders": [_order(order) for order in subject.orders().order_by("saleor_created_at", "pk")],
        "checkouts": [_checkout(checkout) for checkout in subject.checkouts().order_by("saleor_created_at", "pk")],
    }
