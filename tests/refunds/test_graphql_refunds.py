"""The refund and return operations through the real GraphQL endpoints: who may call them, and what they say.

Staff money operations need MANAGE_ORDERS + HANDLE_PAYMENTS; shoppers reach only their own orders.
"""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import RefundRecord, ReturnRequest
from tests.graphql.conftest import customer_token, shopper_headers, staff_headers
from tests.refunds.shop import CUSTOMER, mutations, open_case, put_order

REFUND_ISSUE = """
mutation Refund($input: RefundIssueInput!) {
  refundIssue(input: $input) {
    refund { id status amount { amount currency } grantedRefundId errorCode errorMessage requestedBy }
    errors { field code message }
  }
}
"""
CASE_REFUNDS = "query R($id: ID!) { caseRefunds(caseId: $id) { status idempotencyKey } }"
RETURN_CREATE = """
mutation Return($input: ReturnRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    returnRequest { id status resolution value { amount } lines { quantity productName } }
    case { id reason }
    errors { field code message }
  }
}
"""
RETURN_APPROVE = """
mutation Approve($id: ID!) {
  returnRequestApprove(id: $id) { returnRequest { status } errors { field code message } }
}
"""
REFUND_REQUEST = """
mutation Ask($input: RefundRequestInput!) {
  refundRequest(input: $input) { case { id reason } errors { field code message } }
}
"""


@pytest.fixture
def gql(client):
    def run(schema: str, query: str, variables: dict, headers: dict) -> dict:
        body = {"query": query, "variables": variables}
        response = client.post(f"/graphql/{schema}/", data=json.dumps(body), content_type="application/json", **headers)
        return {"status": response.status_code, **response.json()}

    return run


def refund_input(case, **kw) -> dict:
    return {"caseId": global_id("Case", case.pk), "idempotencyKey": "ui-7f3a1c2b", "reason": "Damaged", **kw}


def test_staff_issue_a_refund_and_see_it_on_the_case(gql, installation, saleor):
    # given a case about a paid order
    order = put_order(saleor)
    case = open_case(installation, order)

    # when a staff member with MANAGE_ORDERS and HANDLE_PAYMENTS refunds 12.5
    answer = gql("staff", REFUND_ISSUE, {"input": refund_input(case, amount="12.5")}, staff_headers(installation))

    # then the payload shows the refund pending in Saleor, asked for by them
    payload = answer["data"]["refundIssue"]
    assert payload["errors"] == []
    assert payload["refund"]["status"] == "PENDING"
    assert payload["refund"]["amount"] == {"amount": 12.5, "currency": "USD"}
    assert payload["refund"]["requestedBy"] == "staff@example.com"
    assert payload["refund"]["grantedRefundId"] == saleor.mutations.grants(order["id"])[0]["id"]
    listed = gql("staff", CASE_REFUNDS, {"id": global_id("Case", case.pk)}, staff_headers(installation))
    assert listed["data"]["caseRefunds"] == [{"status": "PENDING", "idempotencyKey": "ui-7f3a1c2b"}]


def test_saleors_refusal_comes_back_as_a_payload_error_with_the_failed_refund(gql, installation, saleor):
    # given a case about an order charged 40
    order = put_order(saleor)
    case = open_case(installation, order)

    # when staff ask for 1000
    answer = gql("staff", REFUND_ISSUE, {"input": refund_input(case, amount="1000")}, staff_headers(installation))

    # then the error has our code, and the refund row shows it failed with Saleor's words
    payload = answer["data"]["refundIssue"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("amount", "REFUND_AMOUNT_EXCEEDS_CHARGED")]
    assert payload["refund"]["status"] == "FAILED"
    assert "AMOUNT_GREATER_THAN_AVAILABLE" in payload["refund"]["errorMessage"]


def test_staff_without_handle_payments_cannot_refund(gql, installation, saleor):
    # given a case; when a staff member with MANAGE_ORDERS only tries to refund
    order = put_order(saleor)
    case = open_case(installation, order)
    headers = staff_headers(installation, permissions=("MANAGE_ORDERS",))
    answer = gql("staff", REFUND_ISSUE, {"input": refund_input(case, amount="5")}, headers)

    # then it is FORBIDDEN before anything happens
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]
    assert saleor.requests == []
    assert not RefundRecord.objects.exists()


def test_a_case_of_another_installation_is_not_found(gql, installation, other_installation, saleor):
    # given a case at another shop; when this shop's staff refund it by id
    order = put_order(saleor)
    foreign = open_case(other_installation, order)
    answer = gql("staff", REFUND_ISSUE, {"input": refund_input(foreign, amount="5")}, staff_headers(installation))

    # then it does not exist for them
    payload = answer["data"]["refundIssue"]
    assert payload == {
        "refund": None,
        "errors": [{"field": "caseId", "code": "NOT_FOUND", "message": "Case not found."}],
    }
    assert saleor.requests == []


def test_shoppers_request_returns_of_their_own_orders_only(gql, installation, saleor):
    # given Ana's order, and a token for Ana and one for Bob
    order = put_order(saleor)
    line = {"orderLineId": order["lines"][0]["id"], "quantity": 1}
    variables = {"input": {"orderId": order["id"], "lines": [line], "reason": "Wrong size"}}
    ana = shopper_headers(installation, customer_token(installation, email=CUSTOMER))
    bob = shopper_headers(installation, customer_token(installation, email="bob@example.com", user_id="VXNlcjo5"))

    # when each asks to return a tee from it
    mine = gql("shopper", RETURN_CREATE, variables, ana)["data"]["returnRequestCreate"]
    theirs = gql("shopper", RETURN_CREATE, variables, bob)["data"]["returnRequestCreate"]

    # then Ana's request is recorded on a return case, and Bob's order lookup finds nothing
    assert mine["errors"] == []
    assert mine["returnRequest"]["status"] == "REQUESTED"
    assert mine["returnRequest"]["lines"] == [{"quantity": 1, "productName": "Monospace Tee"}]
    assert mine["case"]["reason"] == "RETURN_REQUEST"
    assert [(e["field"], e["code"]) for e in theirs["errors"]] == [("orderId", "NOT_FOUND")]
    assert ReturnRequest.objects.count() == 1

    # when staff approve Ana's request
    approve = gql("staff", RETURN_APPROVE, {"id": mine["returnRequest"]["id"]}, staff_headers(installation))

    # then the items are returned in Saleor
    assert approve["data"]["returnRequestApprove"] == {"returnRequest": {"status": "APPROVED"}, "errors": []}
    assert mutations(saleor) == ["ReturnProducts"]


def test_a_shopper_refund_request_is_a_case_not_a_refund(gql, installation, saleor):
    # given Ana's order; when she asks for a refund
    order = put_order(saleor)
    ana = shopper_headers(installation, customer_token(installation, email=CUSTOMER))
    answer = gql("shopper", REFUND_REQUEST, {"input": {"orderId": order["id"], "reason": "Torn"}}, ana)

    # then a refund-request case exists for staff and no money moved
    payload = answer["data"]["refundRequest"]
    assert payload["errors"] == [] and payload["case"]["reason"] == "REFUND_REQUEST"
    assert mutations(saleor) == []


def test_the_shopper_schema_has_no_staff_money_operations():
    from saleor_support_plugin.graphql.shopper.schema import schema as shopper_schema
    from saleor_support_plugin.graphql.staff.schema import schema as staff_schema

    shopper_fields = set(shopper_schema._schema.mutation_type.fields)
    staff_fields = set(staff_schema._schema.mutation_type.fields)
    assert {"refundIssue", "refundResume", "returnRequestApprove", "returnRequestReceive"} <= staff_fields
    assert not {"refundIssue", "refundResume", "refundLimitUpdate", "returnRequestApprove"} & shopper_fields
    assert {"returnRequestCreate", "refundRequest"} <= shopper_fields
