"""Inbox free-text search: what it finds, and (PostgreSQL) that each arm of it can use an index."""

from __future__ import annotations

import pytest
from django.db import connection

from saleor_support_plugin.models import Case, Customer
from tests.graphql.conftest import make_case, make_order, staff_headers

SEARCH = "query($q: String!) { cases(first: 50, filter: {search: $q}) { totalCount edges { node { number } } } }"
SEARCH_INDEXES = ("case_subject_trgm_idx", "customer_email_trgm_idx", "case_order_number_idx")


@pytest.fixture
def search(gql, test_installation):
    headers = staff_headers(test_installation)

    def run(text: str) -> set[int]:
        result = gql("staff", SEARCH, {"q": text}, headers)
        assert not result.errors, result.errors
        numbers = {e["node"]["number"] for e in result.data["cases"]["edges"]}
        assert result.data["cases"]["totalCount"] == len(numbers)
        return numbers

    return run


def test_search_finds_cases_by_subject_email_and_number(search, test_installation, other_installation):
    # given
    parcel = make_case(test_installation, email="ana.sousa@example.com", subject="Parcel arrived DAMAGED")
    refund = make_case(
        test_installation, email="Bob@Shop.example.org", subject="Refund", order=make_order(test_installation)
    )
    make_case(other_installation, email="ana.sousa@example.com", subject="Parcel arrived damaged")
    # then: any part of the subject or e-mail, in any case; the order number; the case number
    assert search("arrived dam") == {parcel.number}
    assert search("SOUSA@EX") == {parcel.number}
    assert search("bob@shop") == {refund.number}
    assert search("#1001") == {refund.number}
    assert search(f"#{parcel.number}") == {parcel.number}
    assert search("nothing like it") == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL only")
def test_search_indexes_exist_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(SEARCH_INDEXES)])
        found = dict(cursor.fetchall())
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() is not None
    assert set(found) == set(SEARCH_INDEXES)
    assert "gin (upper((subject)::text) gin_trgm_ops)" in found["case_subject_trgm_idx"]
    assert "gin (upper((email)::text) gin_trgm_ops)" in found["customer_email_trgm_idx"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL only")
@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda i: Case.objects.filter(subject__icontains="shopper42"), "case_subject_trgm_idx"),
        (lambda i: Customer.objects.filter(email__icontains="SHOPPER42@"), "customer_email_trgm_idx"),
        (lambda i: Case.objects.filter(installation=i, order_number="10042"), "case_order_number_idx"),
    ],
    ids=["subject", "email", "order number"],
)
def test_the_sql_django_writes_for_each_search_arm_can_use_its_index(test_installation, queryset, index):
    # given: a few hundred rows; at this size a sequential scan is cheaper and the planner rightly takes it,
    # so it is switched off to ask "can this SQL use the index at all?" (a trigram index on ``subject`` instead
    # of ``UPPER(subject::text)``, which is how Django writes icontains, could not). bench/inbox.py shows the
    # planner combining all of them (BitmapOr) by itself at 1,000,000 cases: ~3 ms instead of ~0.5 s.
    customers = Customer.objects.bulk_create(
        Customer(installation=test_installation, email=f"shopper{n}@example.com") for n in range(300)
    )
    Case.objects.bulk_create(
        Case(installation=test_installation, number=n + 1, subject=f"Question from shopper{n}", customer=customer,
             order_number=str(10_000 + n), reply_token=f"token{n}")
        for n, customer in enumerate(customers)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE support_case")
        cursor.execute("ANALYZE support_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")
        # when
        plan = queryset(test_installation).explain()
    # then
    assert f"Bitmap Index Scan on {index}" in plan or f"Index Scan using {index}" in plan, plan
