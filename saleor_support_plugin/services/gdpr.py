"""Data-subject requests: export everything we hold on a shopper, or erase it.

The shopper is found by e-mail (and, when Saleor tells us, by their Saleor user id): their Customer
rows, the cases hanging off them, messages they wrote on anyone's case, survey requests, and the order
and checkout snapshots that carry their address. Both services write a ``CustomerDataRequest`` audit row.

Erasure anonymises instead of deleting where rows feed aggregates: cases keep their reason, timestamps,
SLA flags and money (metrics stay true) but lose every word and address; the Customer row stays (cases
point at it) under ``erased-<pk>@erased.invalid``; survey scores stay, comments go. Running it again
finds nothing that still matches, so it is idempotent.
Orders, checkouts and transactions it erased are tombstoned (``gdpr_snapshots``): Saleor keeps sending
them, and their later states are stored erased and open no case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from saleor_support_plugin import events
from saleor_support_plugin.events import Actor
from saleor_support_plugin.locks import case_qs_select_for_update
from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CheckoutSnapshot,
    Customer,
    CustomerDataRequest,
    DataRequestKind,
    EventStatus,
    FeedbackEmailStatus,
    FeedbackRequest,
    InboundEmail,
    Installation,
    Message,
    MessageDirection,
    Note,
    OrderSnapshot,
    OutboundEmail,
    OutboundEmailStatus,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.models.gdpr import ERASED_EMAIL_DOMAIN
from saleor_support_plugin.services.customers import normalize_email
from saleor_support_plugin.services.gdpr_export import customer_data_document
from saleor_support_plugin.services.gdpr_snapshots import (
    ERASED,
    ERASED_BODY,
    MIN_NAME_NEEDLE,
    erased_objects_record,
    erasure_needles,
    scrub,
    snapshot_personal_erase,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSubject:
    """Everything that identifies one shopper within one installation, found once per request."""

    installation: Installation
    email: str
    emails: frozenset[str]
    names: frozenset[str]
    user_ids: frozenset[str]
    customers: tuple[Customer, ...]
    case_ids: tuple[int, ...]

    def matches(self, field: str, values: frozenset[str]) -> Q:
        query = Q(pk__in=[])
        for value in values:
            query |= Q(**{f"{field}__iexact": value})
        return query

    def orders(self):
        rows = OrderSnapshot.objects.filter(installation=self.installation)
        return rows.filter(self.matches("user_email", self.emails) | Q(saleor_user_id__in=self.user_ids))

    def checkouts(self):
        rows = CheckoutSnapshot.objects.filter(installation=self.installation)
        return rows.filter(self.matches("email", self.emails) | Q(saleor_user_id__in=self.user_ids))

    def messages_elsewhere(self):
        """Messages they wrote on cases that are not theirs (e.g. a reply from another address)."""
        rows = Message.objects.filter(case__installation=self.installation, direction=MessageDirection.INBOUND)
        return rows.filter(self.matches("author_email", self.emails)).exclude(case_id__in=self.case_ids)

    def feedback(self):
        rows = FeedbackRequest.objects.filter(installation=self.installation)
        return rows.filter(Q(customer__in=self.customers) | self.matches("to_email", self.emails))


def data_subject_find(*, installation: Installation, email: str, saleor_user_id: str = "") -> DataSubject:
    """The shopper behind ``email`` (normalised; PermanentError INVALID if it is not an address)."""
    email = normalize_email(email)
    match = Q(email=email) | (Q(saleor_user_id=saleor_user_id) if saleor_user_id else Q(pk__in=[]))
    customers = tuple(Customer.objects.filter(installation=installation).filter(match).order_by("pk"))
    case_ids = tuple(
        Case.objects.filter(installation=installation, customer__in=customers)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return DataSubject(
        installation=installation,
        email=email,
        emails=frozenset({email, *(c.email for c in customers)}),
        names=frozenset(c.name for c in customers if len(c.name.strip()) >= MIN_NAME_NEEDLE),
        user_ids=frozenset({saleor_user_id, *(c.saleor_user_id for c in customers)} - {""}),
        customers=customers,
        case_ids=case_ids,
    )


def subject_digest(*, installation: Installation, email: str) -> str:
    """Keyed HMAC of the address for the audit row: provable with the address, unreadable without it."""
    value = f"{installation.pk}:{email}"
    return salted_hmac("saleor_support_plugin.gdpr", value, algorithm="sha256").hexdigest()


def _audit(subject: DataSubject, kind: str, actor: Actor, via: str, summary: dict[str, int]) -> None:
    CustomerDataRequest.objects.create(
        installation=subject.installation,
        kind=kind,
        subject_digest=subject_digest(installation=subject.installation, email=subject.email),
        actor_type=actor.type,
        actor_email=actor.email,
        actor_user_id=actor.user_id,
        via=via[:48],
        summary=summary,
    )


def customer_data_export(*, installation: Installation, email: str, actor: Actor, via: str = "staff") -> dict:
    """Everything we hold on the shopper with this e-mail, as a JSON-ready dict (see ``gdpr_export``).

    Writes: CustomerDataRequest (kind export): who exported whose data is itself worth an audit trail.
    Raises PermanentError INVALID for an invalid address. An unknown shopper gives an empty document.
    """
    subject = data_subject_find(installation=installation, email=email)
    document = customer_data_document(subject=subject)
    summary = {key: len(value) for key, value in document.items() if isinstance(value, list)}
    _audit(subject, DataRequestKind.EXPORT, actor, via, summary)
    return document


def _erase_conversation(subject: DataSubject, needles: tuple[str, ...]) -> dict[str, int]:
    cases = Case.objects.filter(pk__in=subject.case_ids)
    own = Message.objects.filter(case_id__in=subject.case_ids)
    elsewhere = list(subject.messages_elsewhere().values_list("pk", flat=True))
    message_ids = [*own.values_list("pk", flat=True), *elsewhere]
    wiped = {"body": ERASED, "subject": "", "attachments": [], "email_message_id": ""}
    counts = {
        "cases": cases.update(subject=ERASED, updated_at=timezone.now()),
        "messages": own.update(**wiped) + Message.objects.filter(pk__in=elsewhere).update(**wiped),
        "inbound_emails": InboundEmail.objects.filter(message_id__in=message_ids).delete()[0],
        "notes": Note.objects.filter(case_id__in=subject.case_ids).update(body=ERASED),
    }
    # The shopper's own words carry their name and address; staff keep theirs (they are not the subject).
    Message.objects.filter(pk__in=message_ids, direction=MessageDirection.INBOUND).update(
        author_email="", author_name=""
    )
    # Timeline rows are otherwise written once by ``events.py``; erasure is the one rewrite they get.
    rows = list(CaseEvent.objects.filter(case_id__in=subject.case_ids))
    for row in rows:
        row.parameters = scrub(row.parameters, needles)
        if row.actor_type == "customer" or row.actor_email.lower() in subject.emails:
            row.actor_email = ""
    counts["events"] = CaseEvent.objects.bulk_update(rows, ["parameters", "actor_email"], batch_size=500)
    # On other people's cases only the fact that she acted is kept, not who she was.
    elsewhere_events = CaseEvent.objects.filter(installation=subject.installation).exclude(case_id__in=subject.case_ids)
    counts["events"] += elsewhere_events.filter(subject.matches("actor_email", subject.emails)).update(actor_email="")
    return counts


def _erase_emails(subject: DataSubject) -> dict[str, int]:
    outbound = OutboundEmail.objects.filter(installation=subject.installation).filter(
        Q(case_id__in=subject.case_ids) | subject.matches("to_email", subject.emails)
    )
    # A queued mail must not go out any more; it would carry nothing but "[erased]" anyway.
    outbound.filter(status=OutboundEmailStatus.QUEUED).update(
        status=OutboundEmailStatus.FAILED, last_error="customer data erased"
    )
    erased_to = f"erased@{ERASED_EMAIL_DOMAIN}"
    feedback = subject.feedback()
    feedback.filter(email_status=FeedbackEmailStatus.QUEUED).update(email_status=FeedbackEmailStatus.CANCELLED)
    return {
        "outbound_emails": outbound.update(to_email=erased_to, subject=ERASED, body=ERASED),
        # Scores stay for the CSAT/NPS figures; nothing left on the row says whose they were.
        "feedback": feedback.update(to_email=erased_to, comment="", customer=None),
    }


def _erase_snapshots(subject: DataSubject, needles: tuple[str, ...]) -> tuple[dict[str, int], set[str]]:
    """Anonymise the shopper's order and checkout snapshots and tombstone them with their transactions.

    Returns the counts and every object id erased (for the inbox). The tombstones are what keep later
    webhooks and polls about these objects from writing the shopper back (``gdpr_snapshots``).
    """
    erased: dict[type, list[str]] = {}
    for model, rows in ((OrderSnapshot, list(subject.orders())), (CheckoutSnapshot, list(subject.checkouts()))):
        fields = [snapshot_personal_erase(row, needles) for row in rows]
        if rows:
            model.objects.bulk_update(rows, fields[0])
        erased[model] = [row.saleor_id for row in rows]
    linked = Q(order_saleor_id__in=erased[OrderSnapshot]) | Q(checkout_saleor_id__in=erased[CheckoutSnapshot])
    erased[TransactionSnapshot] = list(
        TransactionSnapshot.objects.filter(installation=subject.installation)
        .filter(linked)
        .values_list("saleor_id", flat=True)
    )
    erased_objects_record(installation=subject.installation, ids_by_model=erased)
    counts = {"orders": len(erased[OrderSnapshot]), "checkouts": len(erased[CheckoutSnapshot])}
    return counts, {saleor_id for ids in erased.values() for saleor_id in ids}


def _erase_inbox(subject: DataSubject, object_ids: set[str], source_event: WebhookEvent | None) -> int:
    """Raw webhook bodies about the shopper's orders, checkouts, payments and account.

    Rows still waiting to be processed are left alone (emptying them would fail them); the event that
    triggered this erasure is included, though it is being processed right now.
    """
    rows = WebhookEvent.objects.filter(installation=subject.installation, object_id__in=object_ids).exclude(
        status=EventStatus.RECEIVED
    )
    if source_event is not None:
        rows = WebhookEvent.objects.filter(Q(pk__in=rows.values("pk")) | Q(pk=source_event.pk))
    return rows.update(raw_body=ERASED_BODY)


def customer_data_erase(
    *,
    installation: Installation,
    email: str,
    actor: Actor,
    saleor_user_id: str = "",
    via: str = "staff",
    source_event: WebhookEvent | None = None,
) -> dict[str, int]:
    """Erase the personal data of the shopper with this e-mail (and Saleor user id); return counts per kind.

    Locks the shopper's case rows (in id order). Writes (anonymises): Customer, Case subjects, Message
    bodies/authors, Note bodies, CaseEvent parameters/actor e-mails, OutboundEmail (queued ones fail),
    FeedbackRequest (queued ones are cancelled), Order/CheckoutSnapshot e-mails/addresses, WebhookEvent
    raw bodies; inserts an ErasedObject tombstone per erased order, checkout and transaction (so later
    webhooks and polls about them stay erased); deletes InboundEmail receipts. Writes CaseEvent
    customer_data_erased per case and a CustomerDataRequest (kind erase). No external calls. Raises
    PermanentError INVALID for a bad address.
    """
    with transaction.atomic():
        subject = data_subject_find(installation=installation, email=email, saleor_user_id=saleor_user_id)
        list(case_qs_select_for_update().filter(pk__in=subject.case_ids).order_by("pk").values_list("pk"))
        needles = erasure_needles(emails=subject.emails, names=subject.names)
        counts = _erase_conversation(subject, needles)
        counts.update(_erase_emails(subject))
        snapshot_counts, object_ids = _erase_snapshots(subject, needles)
        counts.update(snapshot_counts)
        counts["webhook_events"] = _erase_inbox(subject, object_ids | subject.user_ids, source_event)
        for customer in subject.customers:
            customer.email = f"erased-{customer.pk}@{ERASED_EMAIL_DOMAIN}"
            customer.name = customer.saleor_user_id = customer.language_code = ""
            customer.save(update_fields=["email", "name", "saleor_user_id", "language_code", "updated_at"])
        counts["customers"] = len(subject.customers)
        for case in Case.objects.filter(pk__in=subject.case_ids).order_by("pk"):
            events.event_customer_data_erased(case=case, actor=actor, via=via)
        _audit(subject, DataRequestKind.ERASE, actor, via, counts)
    logger.info("customer data erased", extra={"installation_id": installation.pk, "via": via, "counts": counts})
    return counts
