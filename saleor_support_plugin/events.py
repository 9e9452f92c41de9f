"""The only writers of ``CaseEvent``: one function per event type (docs/architecture §1.12).

The case timeline in the dashboard and the audit log both read these rows, so every service that
changes a case calls exactly one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from saleor_support_plugin.models import Case, CaseEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a staff member (Saleor user), the customer, an automatic rule, or the system."""

    type: str
    email: str = ""
    user_id: str = ""

    @classmethod
    def staff(cls, *, email: str, user_id: str = "") -> Actor:
        return cls("staff", email, user_id)

    @classmethod
    def customer(cls, *, email: str) -> Actor:
        return cls("customer", email)


SYSTEM = Actor("system")
RULE = Actor("rule")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _write(case: Case, type_: str, actor: Actor, **parameters: object) -> CaseEvent:
    return CaseEvent.objects.create(
        installation_id=case.installation_id,
        case=case,
        type=type_,
        actor_type=actor.type,
        actor_email=actor.email,
        actor_user_id=actor.user_id,
        parameters={k: v for k, v in parameters.items() if v is not None},
    )


def event_case_opened(*, case: Case, actor: Actor, detail: str = "") -> CaseEvent:
    return _write(
        case,
        "case_opened",
        actor,
        detail=detail or None,
        source=case.source,
        reason=case.reason,
        rule=case.rule or None,
        order_number=case.order_number or None,
        checkout_id=case.checkout_saleor_id or None,
        value_at_risk=_money(case.value_at_risk),
    )


def event_case_condition_repeated(*, case: Case, detail: str, reference: str = "") -> CaseEvent:
    return _write(case, "condition_repeated", RULE, detail=detail, reference=reference or None)


def event_message_received(*, case: Case, message_id: int, channel: str, actor: Actor) -> CaseEvent:
    return _write(case, "message_received", actor, message_id=message_id, channel=channel)


def event_reply_sent(*, case: Case, message_id: int, channel: str, actor: Actor) -> CaseEvent:
    return _write(case, "reply_sent", actor, message_id=message_id, channel=channel)


def event_note_added(*, case: Case, note_id: int, actor: Actor) -> CaseEvent:
    return _write(case, "note_added", actor, note_id=note_id)


def event_case_assigned(*, case: Case, previous_email: str, actor: Actor) -> CaseEvent:
    return _write(case, "assigned", actor, assignee=case.assignee_email or None, previous=previous_email or None)


def event_status_changed(*, case: Case, previous: str, actor: Actor) -> CaseEvent:
    return _write(case, "status_changed", actor, status=case.status, previous=previous)


def event_priority_changed(*, case: Case, previous: str, actor: Actor, why: str = "") -> CaseEvent:
    return _write(case, "priority_changed", actor, priority=case.priority, previous=previous, why=why or None)


def event_tag_added(*, case: Case, tag: str, actor: Actor) -> CaseEvent:
    return _write(case, "tag_added", actor, tag=tag)


def event_tag_removed(*, case: Case, tag: str, actor: Actor) -> CaseEvent:
    return _write(case, "tag_removed", actor, tag=tag)


def event_case_merged(*, case: Case, into: Case, actor: Actor) -> CaseEvent:
    _write(into, "case_absorbed", actor, from_number=case.number)
    return _write(case, "merged_into", actor, into_number=into.number)


def event_case_resolved(*, case: Case, actor: Actor, why: str = "") -> CaseEvent:
    return _write(
        case,
        "case_resolved",
        actor,
        why=why or None,
        recovered_amount=_money(case.recovered_amount),
        currency=case.currency or None,
    )


def event_case_reopened(*, case: Case, actor: Actor, why: str = "") -> CaseEvent:
    return _write(case, "case_reopened", actor, why=why or None)


def event_notice_queued(*, case: Case, email_id: int, kind: str, to: str) -> CaseEvent:
    return _write(case, "notice_queued", RULE, email_id=email_id, kind=kind, to=to)


def event_email_sent(*, case: Case, email_id: int, kind: str) -> CaseEvent:
    return _write(case, "email_sent", SYSTEM, email_id=email_id, kind=kind)


def event_email_failed(*, case: Case, email_id: int, kind: str, error: str) -> CaseEvent:
    return _write(case, "email_failed", SYSTEM, email_id=email_id, kind=kind, error=error[:500])


def event_sla_warning(*, case: Case, target: str, due_at: str) -> CaseEvent:
    return _write(case, "sla_warning", SYSTEM, target=target, due_at=due_at)


def event_sla_breached(*, case: Case, target: str, due_at: str) -> CaseEvent:
    return _write(case, "sla_breached", SYSTEM, target=target, due_at=due_at)


def event_sla_paused(*, case: Case) -> CaseEvent:
    return _write(case, "sla_paused", SYSTEM)


def event_sla_resumed(*, case: Case, paused_business_minutes: int) -> CaseEvent:
    return _write(case, "sla_resumed", SYSTEM, paused_business_minutes=paused_business_minutes)
