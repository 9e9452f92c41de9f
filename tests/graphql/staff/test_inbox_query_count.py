"""The inbox costs the same number of SQL queries for 5 rows as for 50 (no N+1 in any listed field)."""

from __future__ import annotations

import pytest

from saleor_support_plugin.events import Actor
from saleor_support_plugin.services.cases import case_assign, case_tag_add
from tests.graphql.conftest import make_case, make_order, staff_headers

INBOX = """
query Inbox($first: Int, $filter: CaseFilterInput, $sortBy: CaseSortingInput) {
  cases(first: $first, filter: $filter, sortBy: $sortBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id number subject status priority reason source rule orderId orderNumber checkoutId languageCode currency
      createdAt updatedAt resolvedAt closedAt mergedIntoId tags
      customer { id email name saleorUserId languageCode }
      assignee { userId email }
      valueAtRisk { amount currency } recoveredAmount { amount currency }
      sla { dueAt firstResponseDueAt resolutionDueAt firstRespondedAt pausedAt
            firstResponseBreached resolutionBreached }
    } }
  }
}
"""


def _seed(installation, n: int) -> None:
    staff = Actor.staff(email="staff@example.com", user_id="VXNlcjox")
    for i in range(n):
        order = make_order(installation, saleor_id=f"order-{i}", number=str(1000 + i), user_email=f"c{i}@example.com")
        case = make_case(installation, email=f"c{i}@example.com", order=order)
        case_tag_add(case=case, tag="vip", actor=staff)
        case_tag_add(case=case, tag=f"t{i}", actor=staff)
        case_assign(case=case, assignee_user_id="VXNlcjox", assignee_email="staff@example.com", actor=staff)


@pytest.mark.parametrize("sort", ["SLA_DUE", "CREATED_AT", "PRIORITY"])
def test_inbox_query_count_is_constant_in_page_size(gql, test_installation, sort, django_assert_num_queries):
    # given
    _seed(test_installation, 50)
    headers = staff_headers(test_installation)
    variables = {"filter": {"status": ["NEW", "OPEN"]}, "sortBy": {"field": sort, "direction": "ASC"}}
    # when: 5 rows, then 50 rows
    # then: installation lookup, page (customer joined), tags prefetch, count
    with django_assert_num_queries(4):
        small = gql("staff", INBOX, {**variables, "first": 5}, headers)
    with django_assert_num_queries(4):
        large = gql("staff", INBOX, {**variables, "first": 50}, headers)
    assert not small.errors and not large.errors, (small.errors, large.errors)
    assert len(small.data["cases"]["edges"]) == 5
    assert len(large.data["cases"]["edges"]) == 50
    assert all(
        sorted(e["node"]["tags"]) == e["node"]["tags"] and "vip" in e["node"]["tags"]
        for e in large.data["cases"]["edges"]
    )
    assert all(e["node"]["assignee"]["email"] == "staff@example.com" for e in large.data["cases"]["edges"])
