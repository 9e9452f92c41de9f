"""Autopilot: send a draft without a person, only when every condition holds; otherwise hand off to staff.

Off by default (no ``AutopilotRule`` row means off). Conditions, all required:
- a rule for the intent is enabled and the confidence reaches its threshold;
- the intent is not a money intent (the database refuses such rules too);
- the draft needs no missing fact (order_status needs tracking), is grounded in a macro or article or the
  order, and passed the safety check untouched;
- when a model answered, the offline model agrees on the intent: a message that talks the model into a
  confident wrong intent does not also fool the offline classifier, so injections cannot steer autopilot;
- the shopper is not furious, the case is still waiting for us, and nobody answered since the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from saleor_support_plugin import events
from saleor_support_plugin.ai.schemas import MONEY_INTENTS
from saleor_support_plugin.models import (
    AutopilotRule,
    Case,
    CaseStatus,
    DraftStatus,
    Message,
    MessageChannel,
    MessageDirection,
    MessageTriage,
    ReplyDraft,
    TriageEngine,
)
from saleor_support_plugin.models.cases import ACTIVE_STATUSES


@dataclass(frozen=True, slots=True)
class AutopilotDecision:
    send: bool
    reason: str


def autopilot_decide(
    *, rule: AutopilotRule | None, triage: MessageTriage, draft: ReplyDraft, case: Case, message: Message
) -> AutopilotDecision:
    """Pure decision (reads the DB only to see whether someone already answered)."""
    if rule is None or not rule.is_enabled:
        return AutopilotDecision(False, "off")
    checks = [
        (triage.intent in MONEY_INTENTS, "money intent: staff only"),
        (triage.confidence < rule.min_confidence, f"confidence {triage.confidence:.2f} < {rule.min_confidence:.2f}"),
        (bool(draft.missing_facts), f"missing facts: {', '.join(draft.missing_facts)}"),
        (not draft.citations, "draft not grounded in a macro, article or the order"),
        (bool(draft.flags), f"safety check: {', '.join(draft.flags)}"),
        (triage.engine == TriageEngine.LLM and triage.offline_intent != triage.intent,
         f"engines disagree ({triage.intent} vs offline {triage.offline_intent})"),
        (triage.sentiment <= -2, "shopper is upset"),
        (case.status not in ACTIVE_STATUSES or not case.customer_id, "case is not waiting for an answer"),
    ]  # fmt: skip
    for failed, reason in checks:
        if failed:
            return AutopilotDecision(False, reason)
    answered = Message.objects.filter(
        case=case, direction=MessageDirection.OUTBOUND, created_at__gte=message.created_at
    ).exists()
    if answered:
        return AutopilotDecision(False, "already answered")
    return AutopilotDecision(True, f"confidence {triage.confidence:.2f} ≥ {rule.min_confidence:.2f}")


def autopilot_apply(*, case: Case, message: Message, triage: MessageTriage, draft: ReplyDraft) -> AutopilotDecision:
    """Decide, and send the draft through ``case_reply`` when allowed.

    Precondition: inside ``transaction.atomic`` holding the case row lock; ``triage`` is final.
    Writes: ReplyDraft, and when sending: Message, Case, CaseEvents, OutboundEmail (via case_reply).
    """
    from saleor_support_plugin.services.cases import case_reply

    rule = AutopilotRule.objects.filter(installation_id=case.installation_id, intent=triage.intent).first()
    decision = autopilot_decide(rule=rule, triage=triage, draft=draft, case=case, message=message)
    draft.autopilot_decision = "sent" if decision.send else ("off" if decision.reason == "off" else "handoff")
    draft.autopilot_reason = decision.reason[:255]
    if decision.send:
        sent = case_reply(
            case=case,
            body=draft.body,
            actor=events.SYSTEM,
            channel=MessageChannel.SYSTEM,
            status_after=CaseStatus.PENDING_CUSTOMER,
        )
        draft.status, draft.sent_message = DraftStatus.AUTOSENT, sent
        events.event_autopilot_sent(
            case=case, draft_id=draft.pk, message_id=sent.pk, intent=triage.intent, confidence=triage.confidence
        )
    elif draft.autopilot_decision == "handoff":
        events.event_autopilot_handoff(case=case, draft_id=draft.pk, intent=triage.intent, why=decision.reason)
    draft.save(update_fields=["autopilot_decision", "autopilot_reason", "status", "sent_message", "updated_at"])
    return decision
