"""FakeSaleor's refund and return mutations answer like the lab's Saleor 3.24 (scenarios.json).

Each test replays a recorded step on an equivalent order and compares Saleor's answer: the errors exactly,
the data where amounts and ids necessarily differ (our order is charged 40, the lab's sometimes 50).
"""

from __future__ import annotations

import httpx

from tests.fixtures.recordings import scenarios
from tests.refunds.shop import APP_ID, TOKEN, put_order

GRANT = """
mutation Grant($id: ID!, $input: OrderGrantRefundCreateInput!) {
  orderGrantRefundCreate(id: $id, input: $input) {
    grantedRefund { id status amount { amount currency } reason lines { id quantity } transaction { id } }
    order { id totalGrantedRefund { amount } totalRemainingGrant { amount } }
    errors { field message code lines { lineId code message } }
  }
}
"""
SEND = """
mutation Send($g: ID!) {
  transactionRequestRefundForGrantedRefund(grantedRefundId: $g) {
    transaction { id chargedAmount { amount } refundPendingAmount { amount } refundedAmount { amount } }
    errors { field message code }
  }
}
"""
RETURN = """
mutation Return($order: ID!, $input: OrderReturnProductsInput!) {
  orderFulfillmentReturnProducts(order: $order, input: $input) {
    returnFulfillment { id status lines { quantity } totalRefundedAmount { amount } }
    replaceFulfillment { id }
    order { id status totalRefunded { amount } totalRefundPending { amount } totalGrantedRefund { amount }
            grantedRefunds { id } }
    errors { field message code }
  }
}
"""


def recorded_step(name: str) -> dict:
    return next(s for s in scenarios() if s["step"] == name)["response"]


def raw(saleor, document: str, variables: dict) -> dict:
    """The whole HTTP answer (data and top-level errors), as Saleor sent it."""
    response = httpx.post(
        saleor.api_url, json={"query": document, "variables": variables}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return response.json()


def grant(saleor, order: dict, **grant_input) -> dict:
    variables = {"id": order["id"], "input": {"transactionId": order["transactions"][0]["id"], **grant_input}}
    return raw(saleor, GRANT, variables)


def test_grant_above_the_charged_amount(saleor, db):
    # given an order charged 40; when 1000 is granted (step 18)
    order = put_order(saleor)
    answer = grant(saleor, order, amount="1000", reason="too much")

    # then the answer is the recorded one
    expected = recorded_step("orderGrantRefundCreate amount 1000 (exceeds charged 50)")
    assert answer == expected


def test_grant_by_lines_then_send_twice(saleor, db):
    # given an order; when one line is granted (step 19)
    order = put_order(saleor)
    line = {"id": order["lines"][0]["id"], "quantity": 1, "reason": "Damaged"}
    granted = grant(saleor, order, lines=[line], reason="Damaged in transit", grantRefundForShipping=False)

    # then it is a NONE grant on that transaction, priced from the line, like the recorded one
    recorded = recorded_step("orderGrantRefundCreate (lines, transactionId) by support app")["data"]
    payload = granted["data"]["orderGrantRefundCreate"]
    assert payload["errors"] == recorded["orderGrantRefundCreate"]["errors"] == []
    assert payload["grantedRefund"]["status"] == "NONE"
    assert payload["grantedRefund"]["reason"] == "Damaged in transit"
    assert [li["quantity"] for li in payload["grantedRefund"]["lines"]] == [1]
    assert payload["grantedRefund"]["amount"] == {"amount": 20.0, "currency": "USD"}
    assert payload["order"]["totalGrantedRefund"] == payload["order"]["totalRemainingGrant"] == {"amount": 20.0}

    # when it is sent, and sent again (steps 21, 22)
    grant_id = payload["grantedRefund"]["id"]
    first = raw(saleor, SEND, {"g": grant_id})["data"]["transactionRequestRefundForGrantedRefund"]
    second = raw(saleor, SEND, {"g": grant_id})

    # then the first is accepted and the second is refused exactly as recorded
    assert first["errors"] == []
    assert first["transaction"]["refundPendingAmount"] == {"amount": 20.0}
    assert second == recorded_step("transactionRequestRefundForGrantedRefund again (same grant)")


def test_permission_denials(saleor, db):
    # given an order; when an app without MANAGE_ORDERS grants, and one without HANDLE_PAYMENTS sends (17, 20)
    order = put_order(saleor)
    saleor.mutations.app_permissions[APP_ID] = frozenset({"HANDLE_PAYMENTS"})
    denied_grant = grant(saleor, order, amount="5")
    saleor.mutations.app_permissions[APP_ID] = frozenset({"MANAGE_ORDERS"})
    grant_id = grant(saleor, order, amount="5")["data"]["orderGrantRefundCreate"]["grantedRefund"]["id"]
    denied_send = raw(saleor, SEND, {"g": grant_id})

    # then both carry Saleor's PermissionDenied, the field null
    for answer, step in (
        (denied_grant, "orderGrantRefundCreate by app with only HANDLE_PAYMENTS"),
        (denied_send, "transactionRequestRefundForGrantedRefund by app with only MANAGE_ORDERS"),
    ):
        expected = recorded_step(step)
        assert answer["data"] == expected["data"]
        assert [(e["message"], e["path"], e["extensions"]) for e in answer["errors"]] == [
            (e["message"], e["path"], e["extensions"]) for e in expected["errors"]
        ]


def test_payment_app_without_refund_webhook(saleor, db):
    # given a payment app that cannot take refund requests (steps 66, 67)
    order = put_order(saleor, behaviour="no_webhook")
    grant_id = grant(saleor, order, amount="20.0", reason="x")["data"]["orderGrantRefundCreate"]["grantedRefund"]["id"]

    # when the grant is sent
    answer = raw(saleor, SEND, {"g": grant_id})

    # then the recorded error comes back
    expected = recorded_step(
        "transactionRequestRefundForGrantedRefund (app has no TRANSACTION_REFUND_REQUESTED webhook)"
    )
    assert answer == expected


def test_grants_after_a_full_refund_and_after_a_failed_one(saleor, db):
    # given one order refunded in full synchronously, and one whose refund failed (steps 81-83, 72-74)
    refunded = put_order(saleor, behaviour="sync_success")
    first = grant(saleor, refunded, amount="40", reason="full")["data"]["orderGrantRefundCreate"]
    raw(saleor, SEND, {"g": first["grantedRefund"]["id"]})
    failed = put_order(saleor, behaviour="sync_failure")
    first_failed = grant(saleor, failed, amount="40", reason="full")["data"]["orderGrantRefundCreate"]
    raw(saleor, SEND, {"g": first_failed["grantedRefund"]["id"]})

    # when each gets a second grant for the full amount
    after_success = grant(saleor, refunded, amount="40", reason="second grant")
    after_failure = grant(saleor, failed, amount="40", reason="second grant")

    # then nothing is left to grant on the first; the second accepts (the failed grant moved no money)
    expected = recorded_step("orderGrantRefundCreate second grant for full amount after a successful full refund")
    assert after_success["data"]["orderGrantRefundCreate"]["errors"] == [
        {**e, "lines": None} for e in expected["data"]["orderGrantRefundCreate"]["errors"]
    ]
    assert after_failure["data"]["orderGrantRefundCreate"]["grantedRefund"]["status"] == "NONE"


def test_returns_refund_true_fails_and_refund_false_moves_the_items(saleor, db):
    # given the fulfilled order of d_return_with_refund
    order = put_order(saleor)
    fulfillment_line = order["fulfillments"][0]["lines"][0]["id"]
    line = {"fulfillmentLineId": fulfillment_line, "quantity": 1, "reason": "Wrong size"}

    # when it is returned with refund: true (step 49), then with refund: false (step 50)
    with_refund = raw(saleor, RETURN, {"order": order["id"], "input": {"fulfillmentLines": [line], "refund": True}})
    without = raw(saleor, RETURN, {"order": order["id"], "input": {"fulfillmentLines": [line], "refund": False}})

    # then the first is CANNOT_REFUND as recorded and the second returns one item without any grant
    assert with_refund == recorded_step("orderFulfillmentReturnProducts refund=true (1 of 2 items) by support app")
    expected = recorded_step("orderFulfillmentReturnProducts refund=false (remaining item) by support app")
    payload = without["data"]["orderFulfillmentReturnProducts"]
    recorded = expected["data"]["orderFulfillmentReturnProducts"]
    assert payload["errors"] == recorded["errors"] == []
    assert {k: v for k, v in payload["returnFulfillment"].items() if k != "id"} == {
        k: v for k, v in recorded["returnFulfillment"].items() if k != "id"
    }
    assert {k: v for k, v in payload["order"].items() if k != "id"} == {
        k: v for k, v in recorded["order"].items() if k != "id"
    }


def test_a_fully_returned_fulfilment_line_is_gone(saleor, db):
    # given both tees already returned
    order = put_order(saleor)
    fulfillment_line = order["fulfillments"][0]["lines"][0]["id"]
    line = {"fulfillmentLineId": fulfillment_line, "quantity": 2}
    raw(saleor, RETURN, {"order": order["id"], "input": {"fulfillmentLines": [line]}})

    # when the original fulfilment line is returned again
    again = raw(saleor, RETURN, {"order": order["id"], "input": {"fulfillmentLines": [line]}})

    # then Saleor no longer knows that line (it moved entirely into the return)
    assert again["data"]["orderFulfillmentReturnProducts"]["errors"][0]["code"] == "NOT_FOUND"


def test_returning_more_than_a_line_holds_is_invalid_quantity(saleor, db):
    # given 2 tees on the fulfilment line; when 3 are returned
    order = put_order(saleor)
    line = {"fulfillmentLineId": order["fulfillments"][0]["lines"][0]["id"], "quantity": 3}
    answer = raw(saleor, RETURN, {"order": order["id"], "input": {"fulfillmentLines": [line]}})

    # then it is INVALID_QUANTITY with Saleor's words
    assert answer["data"]["orderFulfillmentReturnProducts"]["errors"] == [
        {
            "field": "fulfillmentLineId",
            "message": "Provided quantity is bigger than quantity from fulfillment line",
            "code": "INVALID_QUANTITY",
        }
    ]
