"""Autopilot: off by default, per intent, only with enough confidence and the facts the answer needs."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.models import (
    AutopilotRule,
    Case,
    CaseEvent,
    CaseStatus,
    Message,
    MessageDirection,
    OutboundEmail,
    ReplyDraft,
)
from saleor_support_plugin.services.ai_settings import autopilot_rule_set
from saleor_support_plugin.services.macros import MacroChanges, macro_create
from saleor_support_plugin.services.triage import message_triage
from tests.ai.conftest import open_case, order_snapshot

WISMO = "Hi, where is my order? Has it shipped yet?"
TRACKING_MACRO = "Hi $first_name, your order $order_number is on its way. Tracking number: $tracking_number."


@pytest.fixture
def wismo_macro(test_installation):
    return macro_create(
        installation=test_installation,
        changes=MacroChanges(name="Where is my order", body=TRACKING_MACRO, reason="order_status", language="en"),
    )


def _outbound(case: Case) -> list[Message]:
    return list(Message.objects.filter(case=case, direction=MessageDirection.OUTBOUND))


def test_off_by_default_the_draft_waits_for_staff(test_installation, wismo_macro):
    case, message = open_case(test_installation, WISMO, order=order_snapshot(test_installation))

    message_triage(message_id=message.pk)

    draft = ReplyDraft.objects.get(message=message)
    assert draft.body == "Hi Ana, your order 1042 is on its way. Tracking number: 1Z999AA10123456784."
    assert (draft.autopilot_decision, draft.status) == ("off", "proposed")
    assert draft.citations == [f"macro:{wismo_macro.pk}", "order"]
    assert _outbound(case) == []


def test_sends_when_confident_and_the_tracking_is_known(test_installation, wismo_macro):
    autopilot_rule_set(installation=test_installation, intent="order_status", is_enabled=True, min_confidence=0.6)
    case, message = open_case(test_installation, WISMO, order=order_snapshot(test_installation))

    triage = message_triage(message_id=message.pk)

    assert triage.confidence >= 0.6
    draft = ReplyDraft.objects.get(message=message)
    assert (draft.autopilot_decision, draft.status) == ("sent", "autosent")
    [reply] = _outbound(case)
    assert reply.body == draft.body and draft.sent_message_id == reply.pk
    assert Case.objects.get(pk=case.pk).status == CaseStatus.PENDING_CUSTOMER
    assert OutboundEmail.objects.filter(case=case, kind="reply").count() == 1
    assert CaseEvent.objects.filter(case=case, type="autopilot_sent").exists()


def test_hands_off_without_tracking(test_installation, wismo_macro):
    autopilot_rule_set(installation=test_installation, intent="order_status", is_enabled=True, min_confidence=0.6)
    case, message = open_case(test_installation, WISMO, order=order_snapshot(test_installation, tracking=""))

    message_triage(message_id=message.pk)

    draft = ReplyDraft.objects.get(message=message)
    assert draft.autopilot_decision == "handoff" and "tracking_number" in draft.autopilot_reason
    assert "$tracking_number" in draft.body  # staff see the gap
    assert _outbound(case) == []
    assert CaseEvent.objects.filter(case=case, type="autopilot_handoff").exists()


def test_hands_off_below_the_threshold(test_installation, wismo_macro):
    autopilot_rule_set(installation=test_installation, intent="order_status", is_enabled=True, min_confidence=1.0)
    case, message = open_case(test_installation, WISMO, order=order_snapshot(test_installation))

    triage = message_triage(message_id=message.pk)

    draft = ReplyDraft.objects.get(message=message)
    assert triage.confidence < 1.0
    assert draft.autopilot_decision == "handoff" and draft.autopilot_reason.startswith("confidence")
    assert _outbound(case) == []


def test_hands_off_a_generic_draft_with_no_macro(test_installation):
    autopilot_rule_set(installation=test_installation, intent="order_status", is_enabled=True, min_confidence=0.5)
    case, message = open_case(test_installation, WISMO, order=order_snapshot(test_installation))

    message_triage(message_id=message.pk)

    draft = ReplyDraft.objects.get(message=message)
    assert draft.autopilot_decision == "handoff" and "macro" in draft.missing_facts


@pytest.mark.parametrize("intent", ["refund_request", "cancel_order", "payment_issue", "return_request"])
def test_money_intents_can_never_be_switched_on(test_installation, intent):
    with pytest.raises(PermanentError):
        autopilot_rule_set(installation=test_installation, intent=intent, is_enabled=True)

    with pytest.raises(IntegrityError):  # the database says no as well
        AutopilotRule.objects.create(installation=test_installation, intent=intent, is_enabled=True)
