"""Triage and reply draft on the case screen; staff send a draft (as is or edited) or discard it."""

from __future__ import annotations

import pytest

from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import (
    DraftStatus,
    Message,
    MessageDirection,
    MessageTriage,
    OutboundEmail,
    ReplyDraft,
)
from tests.graphql.conftest import make_case, staff_headers

DRAFT = "{ id body status citations flags missingFacts sentMessageId }"
USE = ("mutation($id: ID!, $body: String) { replyDraftUse(draftId: $id, editedBody: $body) { draft " + DRAFT
       + " message { id body direction } case { id status } errors { field code message } } }")  # fmt: skip
DISCARD = "mutation($id: ID!) { replyDraftDiscard(draftId: $id) { draft { status } errors { field code } } }"


def add_draft(case, body="Hi! Your order ships tomorrow.", **kw) -> ReplyDraft:
    message = Message.objects.filter(case=case, direction=MessageDirection.INBOUND).latest("created_at")
    MessageTriage.objects.create(
        installation_id=case.installation_id, case=case, message=message, engine="offline", intent="order_status",
        offline_intent="order_status", confidence=0.93, offline_confidence=0.93, sentiment=-1, language="en",
    )  # fmt: skip
    return ReplyDraft.objects.create(
        installation_id=case.installation_id, case=case, message=message, body=body, engine="offline",
        citations=["macro:1", "order"], flags=kw.pop("flags", []), **kw,
    )  # fmt: skip


@pytest.fixture
def staff(gql, test_installation):
    headers = staff_headers(test_installation, permissions=("MANAGE_ORDERS",))
    return lambda document, variables=None: gql("staff", document, variables or {}, headers)


def test_case_detail_shows_triage_and_draft_of_the_last_inbound_message(staff, test_installation):
    # given
    case = make_case(test_installation)
    draft = add_draft(case, flags=["money_promise_removed"])
    # when
    result = staff("query($id: ID!) { case(id: $id) { triage { intent sentiment confidence engine language "
                   "messageId } draft " + DRAFT + " } }", {"id": global_id("Case", case.pk)})  # fmt: skip
    # then
    detail = result.data["case"]
    assert detail["triage"] == {
        "intent": "ORDER_STATUS", "sentiment": -1, "confidence": 0.93, "engine": "OFFLINE", "language": "en",
        "messageId": global_id("Message", draft.message_id),
    }  # fmt: skip
    assert detail["draft"]["id"] == global_id("ReplyDraft", draft.pk)
    assert detail["draft"]["citations"] == ["macro:1", "order"] and detail["draft"]["flags"] == [
        "money_promise_removed"
    ]
    assert detail["draft"]["status"] == "PROPOSED"


def test_case_without_triage_shows_none(staff, test_installation):
    case = make_case(test_installation)
    result = staff(
        "query($id: ID!) { case(id: $id) { triage { intent } draft { id } } }", {"id": global_id("Case", case.pk)}
    )
    assert result.data["case"] == {"triage": None, "draft": None}


def test_using_a_draft_sends_the_reply_and_marks_it_used(staff, test_installation):
    # given
    case = make_case(test_installation)
    draft = add_draft(case)
    # when
    result = staff(USE, {"id": global_id("ReplyDraft", draft.pk)}).data["replyDraftUse"]
    again = staff(USE, {"id": global_id("ReplyDraft", draft.pk)}).data["replyDraftUse"]
    # then
    assert result["errors"] == []
    assert (
        result["message"]["body"] == "Hi! Your order ships tomorrow." and result["message"]["direction"] == "OUTBOUND"
    )
    assert result["draft"]["status"] == "USED" and result["draft"]["sentMessageId"] == result["message"]["id"]
    draft.refresh_from_db()
    assert draft.status == DraftStatus.USED and draft.sent_message.body == "Hi! Your order ships tomorrow."
    assert OutboundEmail.objects.filter(case=case).count() == 1
    assert again["message"] is None and again["errors"][0]["code"] == "INVALID_STATUS"
    assert Message.objects.filter(case=case, direction=MessageDirection.OUTBOUND).count() == 1


def test_using_an_edited_draft_sends_the_edit(staff, test_installation):
    case = make_case(test_installation)
    draft = add_draft(case)
    result = staff(USE, {"id": global_id("ReplyDraft", draft.pk), "body": "Ships Monday, sorry!"}).data["replyDraftUse"]
    empty = staff(USE, {"id": global_id("ReplyDraft", add_draft(make_case(test_installation)).pk), "body": " "})
    assert result["message"]["body"] == "Ships Monday, sorry!" and result["draft"]["status"] == "USED"
    assert empty.data["replyDraftUse"]["errors"][0]["field"] == "editedBody"


def test_discard_and_foreign_drafts(staff, test_installation, other_installation):
    # given
    draft = add_draft(make_case(test_installation))
    foreign = add_draft(make_case(other_installation))
    # when
    discarded = staff(DISCARD, {"id": global_id("ReplyDraft", draft.pk)}).data["replyDraftDiscard"]
    use_discarded = staff(USE, {"id": global_id("ReplyDraft", draft.pk)}).data["replyDraftUse"]
    foreign_use = staff(USE, {"id": global_id("ReplyDraft", foreign.pk)}).data["replyDraftUse"]
    foreign_discard = staff(DISCARD, {"id": global_id("ReplyDraft", foreign.pk)}).data["replyDraftDiscard"]
    # then
    assert discarded == {"draft": {"status": "DISCARDED"}, "errors": []}
    assert use_discarded["errors"][0]["code"] == "INVALID_STATUS"
    assert foreign_use["errors"] == [{"field": "draftId", "code": "NOT_FOUND", "message": "Draft not found."}]
    assert foreign_discard["errors"] == [{"field": "draftId", "code": "NOT_FOUND"}]
    foreign.refresh_from_db()
    assert foreign.status == DraftStatus.PROPOSED
