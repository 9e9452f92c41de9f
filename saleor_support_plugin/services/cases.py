"""Every operation on a support case. All tenant-scoped through the case's installation.

Each mutating service locks the case row, checks its state guard, writes, and records exactly one kind
of timeline event (``events.py``). E-mails and other side effects are queued to run after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.locks import case_qs_select_for_update
from saleor_support_plugin.models import (
    Case,
    CaseCounter,
    CasePriority,
    CaseReason,
    CaseSource,
    CaseStatus,
    CaseTag,
    Installation,
    Message,
    MessageChannel,
    MessageDirection,
    Note,
)
from saleor_support_plugin.models.cases import ACTIVE_STATUSES, CASE_TRANSITIONS
from saleor_support_plugin.services import sla
from saleor_support_plugin.services.customers import customer_get_or_create

MAX_BODY = 50_000
MAX_TAG = 64


def _invalid(message: str, field: str) -> PermanentError:
    return PermanentError(SupportErrorCode.INVALID, message, field=field)


def _text(value: str, *, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise PermanentError(SupportErrorCode.REQUIRED, f"{field} is required.", field=field)
    if len(text) > limit:
        raise _invalid(f"{field} is longer than {limit} characters.", field)
    return text


def _choice(value: str, choices: type, field: str) -> str:
    if value not in choices.values:
        raise _invalid(f"Unknown {field} {value!r}.", field)
    return value


def _next_number(installation: Installation) -> int:
    CaseCounter.objects.get_or_create(installation=installation)
    counter = CaseCounter.objects.select_for_update().get(installation=installation)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def _locked(case: Case) -> Case:
    return case_qs_select_for_update().select_related("installation").get(pk=case.pk)


def _save(case: Case, fields: Sequence[str]) -> None:
    case.save(update_fields=sorted({*fields, "updated_at"}))


def case_open(
    *,
    installation: Installation,
    subject: str,
    reason: str = CaseReason.OTHER,
    source: str = CaseSource.STAFF,
    actor: Actor,
    customer_email: str = "",
    customer_name: str = "",
    saleor_user_id: str = "",
    priority: str = CasePriority.NORMAL,
    rule: str = "",
    order_saleor_id: str = "",
    order_number: str = "",
    checkout_saleor_id: str = "",
    value_at_risk: Decimal | None = None,
    currency: str = "",
    language_code: str = "",
    first_message: str = "",
    message_channel: str = MessageChannel.STOREFRONT,
    detail: str = "",
    at: datetime | None = None,
) -> Case:
    """Open a case (numbered per installation), start its SLA clocks, and record the first message.

    Writes: CaseCounter, Customer (if new), Case, Message (if ``first_message``), CaseEvents. Raises
    IntegrityError when a rule case for the same order/checkout and rule is already active (the
    caller, ``case_rules``, turns that into a timeline entry on the existing case).
    """
    subject = _text(subject, field="subject", limit=255)
    _choice(reason, CaseReason, "reason")
    _choice(source, CaseSource, "source")
    _choice(priority, CasePriority, "priority")
    at = at or timezone.now()
    with transaction.atomic():
        customer = None
        if customer_email:
            customer = customer_get_or_create(
                installation=installation,
                email=customer_email,
                saleor_user_id=saleor_user_id,
                name=customer_name,
                language_code=language_code,
            )
        case = Case(
            installation=installation,
            number=_next_number(installation),
            subject=subject,
            reason=reason,
            rule=rule,
            source=source,
            priority=priority,
            customer=customer,
            order_saleor_id=order_saleor_id,
            order_number=order_number,
            checkout_saleor_id=checkout_saleor_id,
            value_at_risk=value_at_risk,
            currency=currency,
            language_code=language_code or (customer.language_code if customer else ""),
            reply_token=secrets.token_hex(12),
            created_at=at,
        )
        with transaction.atomic():
            case.save()
        sla.sla_defaults_ensure(installation=installation)
        _save(case, sla.sla_case_start(case=case, at=at))
        events.event_case_opened(case=case, actor=actor, detail=detail)
        if first_message:
            _message_add(
                case,
                body=first_message,
                channel=message_channel,
                direction=MessageDirection.INBOUND,
                author_email=customer.email if customer else "",
                author_name=customer_name,
                actor=actor,
            )
    return case


def _message_add(case: Case, *, body: str, channel: str, direction: str, actor: Actor, **fields: object) -> Message:
    message = Message.objects.create(
        case=case, channel=channel, direction=direction, body=_text(body, field="body", limit=MAX_BODY), **fields
    )
    writer = events.event_message_received if direction == MessageDirection.INBOUND else events.event_reply_sent
    writer(case=case, message_id=message.pk, channel=channel, actor=actor)
    if direction == MessageDirection.INBOUND:
        from saleor_support_plugin.services.triage import message_triage_enqueue

        message_triage_enqueue(message=message)  # after commit: AI triage + draft (services/triage.py)
    return message


def _guard_open(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise PermanentError(SupportErrorCode.INVALID, "The case is closed.", field="status")


def case_reply(
    *,
    case: Case,
    body: str,
    actor: Actor,
    channel: str = MessageChannel.DASHBOARD,
    status_after: str | None = None,
    at: datetime | None = None,
) -> Message:
    """Staff answer the shopper: stores the reply, stops the first-response clock, e-mails it after commit.

    Writes: Message, Case (SLA, status), CaseEvent(s), OutboundEmail (when the case has a customer).
    """
    from saleor_support_plugin.services.email import outbound_email_queue

    at = at or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        _guard_open(case)
        message = _message_add(
            case,
            body=body,
            channel=channel,
            direction=MessageDirection.OUTBOUND,
            actor=actor,
            author_email=actor.email,
            author_user_id=actor.user_id,
        )
        changed = sla.sla_case_first_response(case=case, at=at) if case.first_responded_at is None else []
        _save(case, changed)
        target = status_after or (CaseStatus.OPEN if case.status == CaseStatus.NEW else None)
        if target and target != case.status:
            _status_set_locked(case, target, actor, at=at)
        if case.customer_id:
            outbound_email_queue(case=case, kind="reply", to_email=case.customer.email, body=message.body)
    return message


def case_message_receive(
    *,
    case: Case,
    body: str,
    channel: str,
    author_email: str,
    author_name: str = "",
    subject: str = "",
    attachments: Sequence[dict] = (),
    email_message_id: str = "",
    at: datetime | None = None,
) -> Message:
    """A shopper wrote on this case: store it and wake the case up (waiting → open, resolved → reopened).

    Writes: Message, Case (status, SLA), CaseEvent(s). Raises PermanentError on a closed case.
    """
    at = at or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        _guard_open(case)
        actor = Actor.customer(email=author_email)
        message = _message_add(
            case,
            body=body,
            channel=channel,
            direction=MessageDirection.INBOUND,
            actor=actor,
            author_email=author_email,
            author_name=author_name[:255],
            subject=subject[:255],
            attachments=list(attachments),
            email_message_id=email_message_id[:255],
        )
        if case.status in (CaseStatus.PENDING_CUSTOMER, CaseStatus.RESOLVED, CaseStatus.ON_HOLD):
            _status_set_locked(case, CaseStatus.OPEN, actor, at=at, why="customer replied")
    return message


def case_note_add(*, case: Case, body: str, actor: Actor) -> Note:
    """Add an internal note (never shown to the shopper). Writes: Note, CaseEvent."""
    with transaction.atomic():
        case = _locked(case)
        note = Note.objects.create(
            case=case,
            body=_text(body, field="body", limit=MAX_BODY),
            author_email=actor.email,
            author_user_id=actor.user_id,
        )
        events.event_note_added(case=case, note_id=note.pk, actor=actor)
    return note


def case_assign(*, case: Case, assignee_user_id: str, assignee_email: str, actor: Actor) -> Case:
    """Assign to a Saleor staff user (empty ids unassign). Writes: Case, CaseEvent."""
    with transaction.atomic():
        case = _locked(case)
        _guard_open(case)
        previous = case.assignee_email
        if (case.assignee_user_id, case.assignee_email) == (assignee_user_id, assignee_email):
            return case
        case.assignee_user_id, case.assignee_email = assignee_user_id[:255], assignee_email[:254]
        _save(case, ["assignee_user_id", "assignee_email"])
        events.event_case_assigned(case=case, previous_email=previous, actor=actor)
    return case


def _status_set_locked(case: Case, status: str, actor: Actor, *, at: datetime, why: str = "") -> None:
    previous = case.status
    if status not in CASE_TRANSITIONS[previous]:
        raise PermanentError(SupportErrorCode.INVALID, f"A {previous} case cannot become {status}.", field="status")
    case.status = status
    changed = ["status"]
    if previous == CaseStatus.PENDING_CUSTOMER:
        changed += sla.sla_case_resume(case=case, at=at)
    if status == CaseStatus.PENDING_CUSTOMER:
        changed += sla.sla_case_pause(case=case, at=at)
    elif status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        field = "resolved_at" if status == CaseStatus.RESOLVED else "closed_at"
        setattr(case, field, at)
        changed += [field, *sla.sla_case_stop(case=case, at=at)]
    elif previous == CaseStatus.RESOLVED:
        case.resolved_at = None
        changed += ["resolved_at", *sla.sla_case_start(case=case, at=at)]
    _save(case, changed)
    if status == CaseStatus.RESOLVED:
        events.event_case_resolved(case=case, actor=actor, why=why)
    elif previous == CaseStatus.RESOLVED:
        events.event_case_reopened(case=case, actor=actor, why=why)
    else:
        events.event_status_changed(case=case, previous=previous, actor=actor)


def case_status_set(*, case: Case, status: str, actor: Actor, why: str = "", at: datetime | None = None) -> Case:
    """Move the case along the transitions table; pauses/resumes/stops SLA clocks. Writes: Case, CaseEvent."""
    _choice(status, CaseStatus, "status")
    with transaction.atomic():
        case = _locked(case)
        if case.status != status:
            _status_set_locked(case, status, actor, at=at or timezone.now(), why=why)
    return case


def case_resolve(
    *, case: Case, actor: Actor, recovered_amount: Decimal | None = None, why: str = "", at: datetime | None = None
) -> Case:
    """Resolve an active case, recording money recovered (e.g. the payment went through on retry)."""
    with transaction.atomic():
        case = _locked(case)
        if case.status not in ACTIVE_STATUSES:
            raise PermanentError(SupportErrorCode.INVALID, f"A {case.status} case cannot be resolved.", field="status")
        if recovered_amount is not None:
            case.recovered_amount = recovered_amount
            _save(case, ["recovered_amount"])
        _status_set_locked(case, CaseStatus.RESOLVED, actor, at=at or timezone.now(), why=why)
    return case


def case_priority_set(*, case: Case, priority: str, actor: Actor, at: datetime | None = None) -> Case:
    """Change priority and recompute SLA targets. Writes: Case, CaseEvent."""
    _choice(priority, CasePriority, "priority")
    with transaction.atomic():
        case = _locked(case)
        _guard_open(case)
        if case.priority == priority:
            return case
        previous, case.priority = case.priority, priority
        _save(case, ["priority", *sla.sla_case_recompute(case=case, at=at or timezone.now())])
        events.event_priority_changed(case=case, previous=previous, actor=actor)
    return case


def case_tag_add(*, case: Case, tag: str, actor: Actor) -> CaseTag:
    """Tag the case (idempotent). Writes: CaseTag, CaseEvent."""
    name = _text(tag, field="tag", limit=MAX_TAG).lower()
    with transaction.atomic():
        case = _locked(case)
        row, created = CaseTag.objects.get_or_create(case=case, name=name)
        if created:
            events.event_tag_added(case=case, tag=name, actor=actor)
    return row


def case_tag_remove(*, case: Case, tag: str, actor: Actor) -> None:
    name = (tag or "").strip().lower()
    with transaction.atomic():
        case = _locked(case)
        deleted, _ = CaseTag.objects.filter(case=case, name=name).delete()
        if deleted:
            events.event_tag_removed(case=case, tag=name, actor=actor)


def case_merge(*, source: Case, target: Case, actor: Actor, at: datetime | None = None) -> Case:
    """Fold ``source`` into ``target``: its messages, notes and tags move; ``source`` closes, pointing at target.

    Guard: same installation, different cases, neither closed. Locks both rows in id order.
    Writes: Message, Note, CaseTag, both Cases, CaseEvents.
    """
    if source.pk == target.pk:
        raise _invalid("A case cannot be merged into itself.", "target")
    if source.installation_id != target.installation_id:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Case not found.", field="target")
    with transaction.atomic():
        locked = {c.pk: c for c in case_qs_select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
        source, target = locked[source.pk], locked[target.pk]
        _guard_open(source)
        _guard_open(target)
        Message.objects.filter(case=source).update(case=target)
        Note.objects.filter(case=source).update(case=target)
        for name in CaseTag.objects.filter(case=source).values_list("name", flat=True):
            CaseTag.objects.get_or_create(case=target, name=name)
        source.merged_into = target
        _save(source, ["merged_into"])
        events.event_case_merged(case=source, into=target, actor=actor)
        _status_set_locked(source, CaseStatus.CLOSED, actor, at=at or timezone.now(), why="merged")
    return target
