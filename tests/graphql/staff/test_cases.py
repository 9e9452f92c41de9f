"""Staff inbox and case detail: filters, sorting, cursor pagination, order context, timeline, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_support_plugin.events import Actor
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import Case, CasePriority, CaseReason, CaseStatus
from saleor_support_plugin.services.cases import case_assign, case_note_add, case_reply, case_tag_add
from tests.graphql.conftest import make_case, make_order, staff_headers

INBOX = """
query Inbox($first: Int, $after: String, $filter: CaseFilterInput, $sortBy: CaseSortingInput) {
  cases(first: $first, after: $after, filter: $filter, sortBy: $sortBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id number subject status priority reason source tags
      customer { id email } assignee { email } sla { dueAt firstResponseBreached } orderNumber } }
  }
}
"""
STAFF = Actor.staff(email="staff@example.com", user_id="VXNlcjox")


def _numbers(result) -> list[int]:
    assert not result.errors, result.errors
    return [e["node"]["number"] for e in result.data["cases"]["edges"]]


@pytest.fixture
def inbox(gql, test_installation):
    headers = staff_headers(test_installation)
    return lambda variables=None: gql("staff", INBOX, variables or {}, headers)


def test_inbox_lists_cases_of_the_installation(inbox, test_installation, other_installation):
    # given
    order = make_order(test_installation)
    case = make_case(test_installation, order=order)
    make_case(other_installation, email="ana@example.com")
    # when
    result = inbox({"first": 10})
    # then
    conn = result.data["cases"]
    assert conn["totalCount"] == 1
    node = conn["edges"][0]["node"]
    assert node["id"] == global_id("Case", case.pk)
    assert (node["status"], node["priority"], node["reason"], node["source"]) == (
        "NEW",
        "NORMAL",
        "OTHER",
        "STOREFRONT",
    )
    assert node["customer"]["email"] == "ana@example.com"
    assert node["orderNumber"] == "1001"
    assert node["sla"]["dueAt"] is not None


def test_cursor_pagination_walks_every_case_once(inbox, test_installation):
    # given
    for i in range(7):
        make_case(test_installation, email=f"c{i}@example.com")
    seen: list[int] = []
    after = None
    # when
    for _ in range(5):
        result = inbox({"first": 3, "after": after, "sortBy": {"field": "NUMBER", "direction": "ASC"}})
        seen += _numbers(result)
        info = result.data["cases"]["pageInfo"]
        assert info["hasPreviousPage"] == (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    # then
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert result.data["cases"]["totalCount"] == 7


def test_total_count_can_stop_counting_at_a_maximum(gql, test_installation):
    for i in range(4):
        make_case(test_installation, email=f"c{i}@example.com")
    document = "{ a: cases { totalCount } b: cases { totalCount(max: 3) } c: cases { totalCount(max: 10) } }"
    result = gql("staff", document, headers=staff_headers(test_installation))
    assert result.data == {"a": {"totalCount": 4}, "b": {"totalCount": 3}, "c": {"totalCount": 4}}


def test_cursor_survives_new_cases_arriving_between_pages(inbox, test_installation):
    for i in range(4):
        make_case(test_installation, email=f"c{i}@example.com")
    first = inbox({"first": 2})  # newest first: 4, 3
    make_case(test_installation, email="late@example.com")  # number 5, newest
    second = inbox({"first": 2, "after": first.data["cases"]["pageInfo"]["endCursor"]})
    assert _numbers(first) == [4, 3]
    assert _numbers(second) == [2, 1]


def test_cursor_of_another_sort_is_refused(inbox, test_installation):
    make_case(test_installation)
    make_case(test_installation)
    cursor = inbox({"first": 1}).data["cases"]["pageInfo"]["endCursor"]
    result = inbox({"first": 1, "after": cursor, "sortBy": {"field": "SLA_DUE", "direction": "ASC"}})
    assert result.error_codes == ["INVALID"]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_sla_due_sort_puts_cases_without_due_time_last_and_pages_through_them(inbox, test_installation, direction):
    # given: five cases with SLA due times, two without
    cases = [make_case(test_installation, email=f"c{i}@example.com") for i in range(7)]
    now = timezone.now()
    for i, case in enumerate(cases):
        due = now + timedelta(hours=i) if i < 5 else None
        Case.objects.filter(pk=case.pk).update(first_response_due_at=due, resolution_due_at=due)
    # when
    numbers: list[int] = []
    after = None
    while True:
        result = inbox({"first": 2, "after": after, "sortBy": {"field": "SLA_DUE", "direction": direction}})
        numbers += _numbers(result)
        if not result.data["cases"]["pageInfo"]["hasNextPage"]:
            break
        after = result.data["cases"]["pageInfo"]["endCursor"]
    # then
    timed = [1, 2, 3, 4, 5] if direction == "ASC" else [5, 4, 3, 2, 1]
    untimed = [6, 7] if direction == "ASC" else [7, 6]
    assert numbers == timed + untimed


def test_priority_sort_orders_by_urgency_not_alphabet(inbox, test_installation):
    for priority in (CasePriority.NORMAL, CasePriority.URGENT, CasePriority.LOW, CasePriority.HIGH):
        make_case(test_installation, priority=priority)
    result = inbox({"sortBy": {"field": "PRIORITY", "direction": "DESC"}})
    assert [e["node"]["priority"] for e in result.data["cases"]["edges"]] == ["URGENT", "HIGH", "NORMAL", "LOW"]


def test_filters(inbox, test_installation):
    # given
    now = timezone.now()
    a = make_case(test_installation, email="ana@example.com", order=make_order(test_installation, channel_slug="eu"))
    b = make_case(test_installation, email="bob@example.com", reason=CaseReason.DELIVERY_DELAY, priority="high")
    c = make_case(test_installation, email="cy@example.com", subject="Refund please", source="email")
    case_assign(case=b, assignee_user_id="VXNlcjox", assignee_email="staff@example.com", actor=STAFF)
    case_tag_add(case=c, tag="VIP", actor=STAFF)
    Case.objects.filter(pk=a.pk).update(sla_first_response_breached=True)
    Case.objects.filter(pk=b.pk).update(first_response_due_at=now + timedelta(minutes=30))
    Case.objects.filter(pk=c.pk).update(status=CaseStatus.PENDING_CUSTOMER)
    cases = {a.number: "a", b.number: "b", c.number: "c"}

    def only(filter_: dict) -> set[str]:
        return {cases[n] for n in _numbers(inbox({"filter": filter_}))}

    # then
    assert only({"status": ["PENDING_CUSTOMER"]}) == {"c"}
    assert only({"status": ["NEW", "OPEN"]}) == {"a", "b"}
    assert only({"reason": ["DELIVERY_DELAY"]}) == {"b"}
    assert only({"priority": ["HIGH", "URGENT"]}) == {"b"}
    assert only({"source": ["EMAIL"]}) == {"c"}
    assert only({"assignee": "me"}) == {"b"}
    assert only({"assignee": "STAFF@example.com"}) == {"b"}
    assert only({"assigned": False}) == {"a", "c"}
    assert only({"slaBreached": True}) == {"a"}
    assert only({"slaDueSoon": True}) == {"b"}
    assert only({"channel": "eu"}) == {"a"}
    assert only({"customerEmail": "BOB@example.com"}) == {"b"}
    assert only({"orderNumber": "#1001"}) == {"a"}
    assert only({"tags": ["vip"]}) == {"c"}
    assert only({"search": "refund"}) == {"c"}
    assert only({"search": f"#{b.number}"}) == {"b"}
    assert only({"search": "ana@"}) == {"a"}
    assert only({"status": ["NEW"], "priority": ["NORMAL"]}) == {"a"}


def test_overdue_case_counts_as_breached_before_the_scan_flags_it(inbox, test_installation):
    case = make_case(test_installation)
    Case.objects.filter(pk=case.pk).update(first_response_due_at=timezone.now() - timedelta(minutes=1))
    assert _numbers(inbox({"filter": {"slaBreached": True}})) == [case.number]
    assert _numbers(inbox({"filter": {"slaDueSoon": True}})) == []


DETAIL = """
query Detail($id: ID!) {
  case(id: $id) {
    id number tags
    messages { id direction channel body authorEmail }
    notes { id body authorEmail }
    timeline { type actor { type email } parameters }
    order { id number status channel total { amount currency } lines { productName quantity unitPrice { amount } } }
    customerHistory { cases { id number } orders { number } }
  }
}
"""


def test_case_detail_has_conversation_notes_timeline_order_and_history(gql, test_installation):
    # given
    order = make_order(test_installation)
    make_order(test_installation, saleor_id="older", number="900")
    earlier = make_case(test_installation, subject="Earlier question")
    case = make_case(test_installation, order=order)
    case_reply(case=case, body="It ships tomorrow", actor=STAFF)
    case_note_add(case=case, body="Customer is a VIP", actor=STAFF)
    # when
    result = gql("staff", DETAIL, {"id": global_id("Case", case.pk)}, staff_headers(test_installation))
    # then
    assert not result.errors, result.errors
    detail = result.data["case"]
    assert [m["direction"] for m in detail["messages"]] == ["INBOUND", "OUTBOUND"]
    assert detail["notes"][0]["body"] == "Customer is a VIP"
    types = [e["type"] for e in detail["timeline"]]
    assert types[0] == "case_opened" and "reply_sent" in types and "note_added" in types
    assert detail["order"]["number"] == "1001"
    assert detail["order"]["total"] == {"amount": 80.0, "currency": "USD"}
    assert detail["order"]["lines"][0] == {"productName": "Mug", "quantity": 2, "unitPrice": {"amount": 40.0}}
    assert detail["customerHistory"]["cases"] == [{"id": global_id("Case", earlier.pk), "number": earlier.number}]
    assert {o["number"] for o in detail["customerHistory"]["orders"]} == {"1001", "900"}


def test_case_detail_query_count_does_not_depend_on_conversation_length(
    gql, test_installation, django_assert_max_num_queries
):
    case = make_case(test_installation, order=make_order(test_installation))
    for i in range(20):
        case_reply(case=case, body=f"reply {i}", actor=STAFF)
        case_note_add(case=case, body=f"note {i}", actor=STAFF)
    with django_assert_max_num_queries(12):
        result = gql("staff", DETAIL, {"id": global_id("Case", case.pk)}, staff_headers(test_installation))
    assert len(result.data["case"]["messages"]) == 21


@pytest.mark.parametrize("raw_id", ["garbage", global_id("Order", 1), global_id("Case", 999_999), ""])
def test_unknown_or_malformed_case_id_is_null(gql, test_installation, raw_id):
    result = gql("staff", "query($id: ID!) { case(id: $id) { id } }", {"id": raw_id}, staff_headers(test_installation))
    assert result.data == {"case": None} and not result.errors
