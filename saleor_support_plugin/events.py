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


def event_feedback_requested(*, case: Case, request_id: int, kind: str) -> CaseEvent:
    return _write(case, "feedback_requested", SYSTEM, request_id=request_id, kind=kind)


def event_feedback_received(*, case: Case, request_id: int, kind: str, score: int, changed: bool) -> CaseEvent:
    # The customer answered through the survey link; ``changed`` marks a revised answer.
    return _write(
        case, "feedback_received", Actor("customer"), request_id=request_id, kind=kind, score=score, changed=changed
    )


def event_customer_data_erased(*, case: Case, actor: Actor, via: str) -> CaseEvent:
    return _write(case, "customer_data_erased", actor, via=via)


# -- refunds and returns (services/refunds.py, services/returns.py) -------------------------------------
# Every money step is recorded with the actor of the call that took it (a retry may be someone else).
# (Imported here rather than at the top: this section is appended by the refunds work, see README.)
from saleor_support_plugin.models import RefundRecord, ReturnRequest  # noqa: E402


def _refund(record: RefundRecord) -> dict:
    return {
        "refund_id": record.pk,
        "idempotency_key": record.idempotency_key,
        "amount": _money(record.amount),
        "currency": record.currency or None,
    }


def event_refund_requested(*, case: Case, record: RefundRecord, actor: Actor) -> CaseEvent:
    return _write(
        case,
        "refund_requested",
        actor,
        **_refund(record),
        lines=record.lines or None,
        include_shipping=record.include_shipping or None,
        reason=record.reason or None,
        return_request_id=record.return_request_id,
    )


def event_refund_refused(
    *, case: Case, actor: Actor, code: str, message: str, amount: Decimal | None, currency: str
) -> CaseEvent:
    return _write(
        case, "refund_refused", actor, code=code, message=message[:500], amount=_money(amount), currency=currency
    )


def event_refund_granted(*, case: Case, record: RefundRecord, actor: Actor, recovered: bool = False) -> CaseEvent:
    return _write(
        case,
        "refund_granted",
        actor,
        **_refund(record),
        grant_id=record.grant_saleor_id,
        transaction_id=record.transaction_saleor_id,
        # True when a retry found the grant an earlier, interrupted attempt had created.
        recovered=recovered or None,
    )


def event_refund_sent(*, case: Case, record: RefundRecord, actor: Actor, already_sent: bool = False) -> CaseEvent:
    return _write(
        case,
        "refund_sent",
        actor,
        **_refund(record),
        grant_id=record.grant_saleor_id,
        status=record.status,
        already_sent=already_sent or None,
    )


def event_refund_succeeded(*, case: Case, record: RefundRecord, actor: Actor) -> CaseEvent:
    return _write(case, "refund_succeeded", actor, **_refund(record), grant_id=record.grant_saleor_id)


def event_refund_failed(*, case: Case, record: RefundRecord, actor: Actor, stage: str) -> CaseEvent:
    return _write(
        case,
        "refund_failed",
        actor,
        **_refund(record),
        stage=stage,
        code=record.error_code,
        message=record.error_message[:500],
        grant_id=record.grant_saleor_id or None,
    )


def event_refund_interrupted(*, case: Case, record: RefundRecord, actor: Actor, stage: str, error: str) -> CaseEvent:
    """Saleor could not be reached or timed out; the same key can be retried safely."""
    return _write(case, "refund_interrupted", actor, **_refund(record), stage=stage, error=error[:500])


def event_refund_requested_by_customer(
    *, case: Case, actor: Actor, order_number: str, amount: Decimal | None, currency: str, lines: list
) -> CaseEvent:
    return _write(
        case,
        "customer_refund_requested",
        actor,
        order_number=order_number or None,
        amount=_money(amount),
        currency=currency or None,
        lines=lines or None,
    )


def _return(return_request: ReturnRequest) -> dict:
    return {
        "return_request_id": return_request.pk,
        "order_number": return_request.order_number or None,
        "resolution": return_request.resolution,
    }


def event_return_requested(*, case: Case, return_request: ReturnRequest, actor: Actor) -> CaseEvent:
    return _write(
        case,
        "return_requested",
        actor,
        **_return(return_request),
        reason=return_request.reason,
        value=_money(return_request.value),
        currency=return_request.currency or None,
    )


def event_return_approved(*, case: Case, return_request: ReturnRequest, actor: Actor) -> CaseEvent:
    return _write(
        case,
        "return_approved",
        actor,
        **_return(return_request),
        auto_approved=return_request.auto_approved or None,
        return_fulfillment_id=return_request.saleor_return_fulfillment_id or None,
        replace_order_id=return_request.saleor_replace_order_id or None,
    )


def event_return_sync_failed(
    *, case: Case, return_request: ReturnRequest, actor: Actor, code: str, message: str
) -> CaseEvent:
    return _write(case, "return_sync_failed", actor, **_return(return_request), code=code, message=message[:500])


def event_return_received(*, case: Case, return_request: ReturnRequest, actor: Actor) -> CaseEvent:
    return _write(case, "return_received", actor, **_return(return_request))


def event_return_refunded(*, case: Case, return_request: ReturnRequest, actor: Actor, refund_id: int) -> CaseEvent:
    return _write(case, "return_refunded", actor, **_return(return_request), refund_id=refund_id)


def event_return_exchanged(*, case: Case, return_request: ReturnRequest, actor: Actor) -> CaseEvent:
    return _write(
        case,
        "return_exchanged",
        actor,
        **_return(return_request),
        replace_order_id=return_request.saleor_replace_order_id or None,
    )


def event_return_rejected(*, case: Case, return_request: ReturnRequest, actor: Actor, why: str) -> CaseEvent:
    return _write(case, "return_rejected", actor, **_return(return_request), why=why[:500])


def event_case_triaged(
    *, case: Case, message_id: int, intent: str, sentiment: int, urgency: str, language: str, confidence: float,
    engine: str, fallback_reason: str = "",
) -> CaseEvent:  # fmt: skip
    return _write(
        case,
        "case_triaged",
        SYSTEM,
        message_id=message_id,
        intent=intent,
        sentiment=sentiment,
        urgency=urgency,
        language=language,
        confidence=round(confidence, 4),
        engine=engine,
        fallback_reason=fallback_reason or None,
    )


def event_reply_drafted(
    *, case: Case, draft_id: int, message_id: int, engine: str, citations: list[str], flags: list[str]
) -> CaseEvent:
    return _write(
        case,
        "reply_drafted",
        SYSTEM,
        draft_id=draft_id,
        message_id=message_id,
        engine=engine,
        citations=citations,
        flags=flags or None,
    )


def event_autopilot_sent(*, case: Case, draft_id: int, message_id: int, intent: str, confidence: float) -> CaseEvent:
    return _write(
        case, "autopilot_sent", SYSTEM, draft_id=draft_id, message_id=message_id, intent=intent,
        confidence=round(confidence, 4),
    )  # fmt: skip


def event_autopilot_handoff(*, case: Case, draft_id: int, intent: str, why: str) -> CaseEvent:
    return _write(case, "autopilot_handoff", SYSTEM, draft_id=draft_id, intent=intent, why=why)


def event_llm_budget_exhausted(*, case: Case, used_tokens: int, budget_tokens: int) -> CaseEvent:
    return _write(case, "llm_budget_exhausted", SYSTEM, used_tokens=used_tokens, budget_tokens=budget_tokens)


def event_llm_failed(*, case: Case, message_id: int, outcome: str, error: str) -> CaseEvent:
    return _write(case, "llm_failed", SYSTEM, message_id=message_id, outcome=outcome, error=error[:500])
