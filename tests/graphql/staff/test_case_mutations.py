"""Staff mutations: each calls its service, returns the case, and maps service errors to payload errors."""

from __future__ import annotations

import pytest

from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import Case, CaseEvent, CaseStatus, Message, Note, OutboundEmail
from tests.graphql.conftest import make_case, make_order, staff_headers

PAYLOAD = "{ case { id status priority tags assignee { userId email } } errors { field code message } }"


@pytest.fixture
def staff(gql, test_installation):
    headers = staff_headers(test_installation, email="Agent@Example.com", user_id="VXNlcjo0Mg==")
    return lambda document, variables=None: gql("staff", document, variables or {}, headers)


@pytest.fixture
def case(test_installation):
    return make_case(test_installation, order=make_order(test_installation))


def _id(case: Case) -> str:
    return global_id("Case", case.pk)


def test_case_reply_sends_the_answer_and_records_who(staff, case):
    result = staff(
        'mutation($id: ID!) { caseReply(id: $id, body: "Shipped today", statusAfter: PENDING_CUSTOMER) '
        "{ case { status } message { direction channel body authorEmail } errors { code } } }",
        {"id": _id(case)},
    )
    payload = result.data["caseReply"]
    assert payload["errors"] == []
    assert payload["message"] == {"direction": "OUTBOUND", "channel": "DASHBOARD", "body": "Shipped today",
                                  "authorEmail": "agent@example.com"}  # fmt: skip
    assert payload["case"]["status"] == "PENDING_CUSTOMER"
    event = CaseEvent.objects.get(case=case, type="reply_sent")
    assert (event.actor_type, event.actor_email, event.actor_user_id) == ("staff", "agent@example.com", "VXNlcjo0Mg==")
    assert OutboundEmail.objects.filter(case=case).count() == 1


def test_empty_reply_is_a_required_error_on_body(staff, case):
    result = staff("mutation($id: ID!) { caseReply(id: $id, body: \"  \") { message { id } errors { field code } } }",
                   {"id": _id(case)})  # fmt: skip
    assert result.data["caseReply"] == {"message": None, "errors": [{"field": "body", "code": "REQUIRED"}]}
    assert not Message.objects.filter(case=case, direction="outbound").exists()


def test_reply_on_a_closed_case_is_invalid(staff, case):
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    result = staff('mutation($id: ID!) { caseReply(id: $id, body: "hi") { errors { field code } } }', {"id": _id(case)})
    assert result.data["caseReply"]["errors"] == [{"field": "status", "code": "INVALID"}]


def test_note_is_internal(staff, case):
    result = staff("mutation($id: ID!) { caseNoteAdd(id: $id, body: \"Call them\") { note { body authorEmail } "
                   "errors { code } } }", {"id": _id(case)})  # fmt: skip
    assert result.data["caseNoteAdd"]["note"] == {"body": "Call them", "authorEmail": "agent@example.com"}
    assert Note.objects.filter(case=case).count() == 1
    assert not OutboundEmail.objects.filter(case=case).exists()


def test_assign_and_unassign(staff, case):
    assigned = staff("mutation($id: ID!) { caseAssign(id: $id, userId: \"VXNlcjo5\", email: \"bo@example.com\") "
                     + PAYLOAD + " }", {"id": _id(case)})  # fmt: skip
    cleared = staff("mutation($id: ID!) { caseAssign(id: $id) " + PAYLOAD + " }", {"id": _id(case)})
    assert assigned.data["caseAssign"]["case"]["assignee"] == {"userId": "VXNlcjo5", "email": "bo@example.com"}
    assert cleared.data["caseAssign"]["case"]["assignee"] is None


def test_status_transition_rules_come_from_the_service(staff, case):
    ok = staff("mutation($id: ID!) { caseStatusSet(id: $id, status: RESOLVED) " + PAYLOAD + " }", {"id": _id(case)})
    closed = staff("mutation($id: ID!) { caseStatusSet(id: $id, status: CLOSED) " + PAYLOAD + " }", {"id": _id(case)})
    back = staff("mutation($id: ID!) { caseStatusSet(id: $id, status: OPEN) " + PAYLOAD + " }", {"id": _id(case)})
    assert ok.data["caseStatusSet"]["case"]["status"] == "RESOLVED"
    assert closed.data["caseStatusSet"]["case"]["status"] == "CLOSED"
    assert back.data["caseStatusSet"]["errors"] == [
        {"field": "status", "code": "INVALID", "message": "A closed case cannot become open."}
    ]


def test_priority_and_tags(staff, case):
    staff("mutation($id: ID!) { casePrioritySet(id: $id, priority: URGENT) " + PAYLOAD + " }", {"id": _id(case)})
    staff('mutation($id: ID!) { caseTagAdd(id: $id, tag: "Late") ' + PAYLOAD + " }", {"id": _id(case)})
    staff('mutation($id: ID!) { caseTagAdd(id: $id, tag: "vip") ' + PAYLOAD + " }", {"id": _id(case)})
    result = staff('mutation($id: ID!) { caseTagRemove(id: $id, tag: "VIP") ' + PAYLOAD + " }", {"id": _id(case)})
    assert result.data["caseTagRemove"]["case"]["priority"] == "URGENT"
    assert result.data["caseTagRemove"]["case"]["tags"] == ["late"]


def test_merge_moves_the_conversation_and_closes_the_source(staff, case, test_installation):
    source = make_case(test_installation, first_message="Also, the lid is cracked")
    result = staff("mutation($id: ID!, $into: ID!) { caseMerge(id: $id, intoId: $into) " + PAYLOAD + " }",
                   {"id": _id(source), "into": _id(case)})  # fmt: skip
    assert result.data["caseMerge"]["case"]["id"] == _id(case)
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == (CaseStatus.CLOSED, case.pk)
    assert Message.objects.filter(case=case).count() == 2


def test_merge_into_itself_or_an_unknown_case_names_the_field(staff, case):
    itself = staff(
        "mutation($id: ID!) { caseMerge(id: $id, intoId: $id) { errors { field code } } }", {"id": _id(case)}
    )
    unknown = staff("mutation($id: ID!, $into: ID!) { caseMerge(id: $id, intoId: $into) { errors { field code } } }",
                    {"id": _id(case), "into": global_id("Case", 424242)})  # fmt: skip
    assert itself.data["caseMerge"]["errors"] == [{"field": "target", "code": "INVALID"}]
    assert unknown.data["caseMerge"]["errors"] == [{"field": "intoId", "code": "NOT_FOUND"}]


def test_case_open_from_a_known_order_takes_customer_and_number_from_the_snapshot(staff, test_installation):
    order = make_order(test_installation, saleor_id="T3JkZXI6Nzc=", number="77", user_email="zoe@example.com")
    result = staff(
        'mutation($order: ID!) { caseOpenFromOrder(input: {orderId: $order, subject: "Damaged parcel", '
        'reason: DAMAGED_OR_WRONG_ITEM, priority: HIGH, note: "Photos in e-mail", assignToMe: true}) '
        "{ case { id number orderNumber reason priority source customer { email } assignee { email } notes { body } } "
        "errors { code } } }",
        {"order": order.saleor_id},
    )
    case = result.data["caseOpenFromOrder"]["case"]
    assert result.data["caseOpenFromOrder"]["errors"] == []
    assert (case["orderNumber"], case["reason"], case["priority"], case["source"]) == (
        "77", "DAMAGED_OR_WRONG_ITEM", "HIGH", "STAFF")  # fmt: skip
    assert case["customer"]["email"] == "zoe@example.com"
    assert case["assignee"]["email"] == "agent@example.com"
    assert case["notes"] == [{"body": "Photos in e-mail"}]


def test_case_open_from_an_order_nobody_knows_is_not_found(staff, test_installation):
    result = staff("mutation { caseOpenFromOrder(input: {orderId: \"not-an-order\", subject: \"x\"}) "
                   "{ case { id } errors { field code } } }")  # fmt: skip
    assert result.data["caseOpenFromOrder"] == {"case": None, "errors": [{"field": "orderId", "code": "NOT_FOUND"}]}
