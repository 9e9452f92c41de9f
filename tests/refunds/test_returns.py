"""Returns: shopper eligibility, then requested → approved → received → refunded/exchanged, or rejected.

Approval returns the goods in Saleor with orderFulfillmentReturnProducts and ``refund: false`` (the lab's
Saleor refused ``refund: true`` with CANNOT_REFUND on this very order); exchanges send ``replace: true``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.models import (
    CaseReason,
    CaseSource,
    OrderSnapshot,
    RefundRecord,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
)
from saleor_support_plugin.services.returns import (
    ReturnLineInput,
    return_policy_set,
    return_request_approve,
    return_request_create,
    return_request_receive,
    return_request_reject,
)
from tests.refunds.shop import CUSTOMER, STAFF, event_types, mutations, put_order

Code = SupportErrorCode


def ask(installation, order: dict, *, quantity: int = 1, line: int = 0, **kw) -> ReturnRequest:
    kw.setdefault("reason", "Wrong size")
    kw.setdefault("customer_email", CUSTOMER)
    return return_request_create(
        installation=installation,
        order_id=order["id"],
        lines=[ReturnLineInput(order_line_id=order["lines"][line]["id"], quantity=quantity)],
        **kw,
    )


def refused(installation, order: dict, **kw) -> PermanentError:
    with pytest.raises(PermanentError) as caught:
        ask(installation, order, **kw)
    return caught.value


def approve(installation, return_request: ReturnRequest) -> ReturnRequest:
    return return_request_approve(installation=installation, return_request=return_request, actor=STAFF)


def test_a_return_request_opens_a_storefront_case_and_moves_nothing(installation, saleor):
    # given a fulfilled order three days old
    order = put_order(saleor)

    # when the shopper asks to return one tee
    return_request = ask(installation, order, comment="Too small")

    # then a return request waits for staff on a new storefront case, and Saleor was only read
    assert (return_request.status, return_request.value, return_request.currency) == ("requested", Decimal("20"), "USD")
    (line,) = return_request.lines.all()
    assert (line.order_line_id, line.quantity, line.product_sku, line.replace) == (
        order["lines"][0]["id"],
        1,
        "328223580",
        False,
    )
    case = return_request.case
    assert (case.reason, case.source, case.customer.email) == (
        CaseReason.RETURN_REQUEST,
        CaseSource.STOREFRONT,
        CUSTOMER,
    )
    assert "Too small" in case.messages.get().body
    assert event_types(case)[-1] == "return_requested"
    assert mutations(saleor) == []
    assert OrderSnapshot.objects.filter(installation=installation, saleor_id=order["id"]).exists()


def test_a_second_request_joins_the_shoppers_open_case(installation, saleor):
    # given a return already requested for one tee
    order = put_order(saleor)
    first = ask(installation, order)

    # when the shopper asks for the other tee too
    second = ask(installation, order, reason="Changed my mind")

    # then both hang off the same case
    assert second.case_id == first.case_id
    assert second.case.messages.count() == 2


def test_the_return_window_counts_from_the_fulfilment(installation, saleor):
    # given a 30-day policy and an order fulfilled 40 days ago
    return_policy_set(installation=installation, window_days=30)
    order = put_order(saleor, fulfilled_days_ago=40)

    # when the shopper asks to return it
    error = refused(installation, order)

    # then the window has closed
    assert error.code == Code.RETURN_WINDOW_EXPIRED
    assert not ReturnRequest.objects.exists()


def test_non_returnable_product_types_and_skus_are_refused(installation, saleor):
    # given a policy that excludes hygiene products and one SKU
    return_policy_set(installation=installation, window_days=30, non_returnable_product_types=["hygiene"])
    order = put_order(saleor, soap=True)

    # when the shopper asks to return the soap
    by_type = refused(installation, order, line=1)
    # and when the tee's SKU is excluded too
    return_policy_set(installation=installation, window_days=30, non_returnable_skus=["328223580"])
    by_sku = refused(installation, order, line=0)

    # then both are refused as not returnable
    assert by_type.code == by_sku.code == Code.ITEM_NOT_RETURNABLE


def test_quantities_already_returned_or_requested_cannot_be_asked_again(installation, saleor):
    # given 2 tees fulfilled
    order = put_order(saleor)

    # when the shopper asks for 3
    too_many = refused(installation, order, quantity=3)
    # and when one is already requested and they ask for 2 more
    ask(installation, order, quantity=1)
    already = refused(installation, order, quantity=2)

    # then both are refused, and 1 more is still fine
    assert too_many.code == already.code == Code.RETURN_QUANTITY_EXCEEDED
    assert "Only 1 of Monospace Tee" in already.message
    assert ask(installation, order, quantity=1).status == ReturnStatus.REQUESTED


def test_exchanges_and_reasons_follow_the_policy(installation, saleor):
    # given a shop without exchanges and with a fixed list of reasons
    return_policy_set(installation=installation, window_days=30, exchanges_allowed=False, allowed_reasons=["Damaged"])
    order = put_order(saleor)

    # when the shopper asks for an exchange, or gives another reason
    exchange = refused(installation, order, reason="Damaged", resolution="exchange")
    reason = refused(installation, order, reason="Wrong size")

    # then each is refused with its own code, before Saleor is even asked
    assert exchange.code == Code.EXCHANGE_NOT_ALLOWED
    assert reason.code == Code.RETURN_REASON_NOT_ALLOWED
    assert saleor.requests == []


def test_someone_elses_order_is_not_found(installation, saleor):
    # given an order of another customer
    order = put_order(saleor, email="someone.else@example.com")

    # when our shopper asks to return from it
    error = refused(installation, order)

    # then the order does not exist for them
    assert error.code == Code.NOT_FOUND


def test_approval_returns_the_items_in_saleor_without_refund(installation, saleor):
    # given a requested return of one tee
    order = put_order(saleor)
    return_request = ask(installation, order)

    # when staff approve it
    return_request = approve(installation, return_request)

    # then Saleor got orderFulfillmentReturnProducts with refund: false, the fulfilment line, and our marker
    assert mutations(saleor) == ["ReturnProducts"]
    sent = saleor.requests[-1][1]
    assert sent["input"] == {
        "fulfillmentLines": [
            {"fulfillmentLineId": order["fulfillments"][0]["lines"][0]["id"], "quantity": 1, "replace": False}
        ],
        "refund": False,
        "reason": f"Wrong size [support-return:{return_request.pk}]",
    }
    # and the order shows the return, in Saleor and in our snapshot
    returned = saleor.store.order_view(order["id"])
    assert returned["status"] == "PARTIALLY_RETURNED"
    assert return_request.status == ReturnStatus.APPROVED
    assert return_request.saleor_return_fulfillment_id == returned["fulfillments"][-1]["id"]
    snapshot = OrderSnapshot.objects.get(installation=installation, saleor_id=order["id"])
    assert snapshot.status == "PARTIALLY_RETURNED"
    approved = return_request.case.events.get(type="return_approved")
    assert approved.actor_email == STAFF.email
    assert saleor.mutations.grants(order["id"]) == []  # approving moves no money


def test_receiving_a_refund_return_issues_the_refund_for_its_lines(installation, saleor):
    # given an approved return of one tee
    order = put_order(saleor, behaviour="sync_success")
    return_request = approve(installation, ask(installation, order))

    # when staff mark the parcel received
    return_request = return_request_receive(installation=installation, return_request=return_request, actor=STAFF)

    # then the tee is refunded through a grant on its line, recorded in the ledger against the return
    assert return_request.status == ReturnStatus.REFUNDED
    record = RefundRecord.objects.get(return_request=return_request)
    assert (record.idempotency_key, record.status, record.amount) == (
        f"return-{return_request.pk}",
        RefundStatus.SUCCEEDED,
        Decimal("20"),
    )
    (grant,) = saleor.mutations.grants(order["id"])
    assert [(line["orderLine"]["id"], line["quantity"]) for line in grant["lines"]] == [(order["lines"][0]["id"], 1)]
    assert event_types(return_request.case)[-6:] == [
        "return_received",
        "refund_requested",
        "refund_granted",
        "refund_sent",
        "refund_succeeded",
        "return_refunded",
    ]


def test_an_exchange_uses_replace_and_needs_no_refund(installation, saleor):
    # given a requested exchange
    order = put_order(saleor)
    return_request = ask(installation, order, resolution="exchange", reason="Wrong size")
    assert return_request.case.reason == CaseReason.EXCHANGE_REQUEST

    # when staff approve and then receive it
    return_request = approve(installation, return_request)
    return_request = return_request_receive(installation=installation, return_request=return_request, actor=STAFF)

    # then Saleor replaced the line (a REPLACED fulfilment and a draft replace order) and no money moved
    assert saleor.requests[-1][1]["input"]["fulfillmentLines"][0]["replace"] is True
    replace_order = saleor.store.orders[return_request.saleor_replace_order_id]
    assert replace_order["status"] == "DRAFT"
    assert return_request.saleor_replace_fulfillment_id
    assert return_request.status == ReturnStatus.EXCHANGED
    assert saleor.mutations.grants(order["id"]) == []
    assert event_types(return_request.case)[-2:] == ["return_received", "return_exchanged"]


def test_small_returns_are_approved_automatically(installation, saleor):
    # given a shop that auto-approves returns worth up to 25
    return_policy_set(installation=installation, window_days=30, max_auto_approve_value=Decimal("25"))
    order = put_order(saleor)

    # when the shopper returns one tee (20)
    return_request = ask(installation, order)

    # then it is approved by the rule and already returned in Saleor
    assert return_request.status == ReturnStatus.APPROVED
    assert return_request.auto_approved is True
    approved = return_request.case.events.get(type="return_approved")
    assert approved.actor_type == "rule"
    assert mutations(saleor) == ["ReturnProducts"]


def test_returns_over_the_auto_approve_value_wait_for_staff(installation, saleor):
    # given the same shop and a return of both tees (40 > 25)
    return_policy_set(installation=installation, window_days=30, max_auto_approve_value=Decimal("25"))
    order = put_order(saleor)

    # when the shopper asks
    return_request = ask(installation, order, quantity=2)

    # then it waits
    assert return_request.status == ReturnStatus.REQUESTED
    assert mutations(saleor) == []


def test_wrong_state_transitions_are_refused(installation, saleor):
    # given a requested return
    order = put_order(saleor, behaviour="sync_success")
    return_request = ask(installation, order)

    # when staff try to receive it before approving
    with pytest.raises(PermanentError) as early:
        return_request_receive(installation=installation, return_request=return_request, actor=STAFF)
    # and once rejected, try to approve it
    return_request_reject(installation=installation, return_request=return_request, actor=STAFF, why="Worn")
    with pytest.raises(PermanentError) as late:
        approve(installation, ReturnRequest.objects.get(pk=return_request.pk))
    # and a second return refunded in full cannot be rejected afterwards
    done = approve(installation, ask(installation, order))
    done = return_request_receive(installation=installation, return_request=done, actor=STAFF)
    with pytest.raises(PermanentError) as after:
        return_request_reject(installation=installation, return_request=done, actor=STAFF, why="Changed mind")

    # then every wrong move is INVALID_STATUS and nothing reached Saleor for them
    assert early.value.code == late.value.code == after.value.code == Code.INVALID_STATUS
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.REJECTED
    assert mutations(saleor).count("ReturnProducts") == 1


def test_an_approval_whose_answer_was_lost_does_not_return_twice(installation, saleor, short_timeout):
    # given Saleor applies the return but answers after our client gave up
    order = put_order(saleor)
    return_request = ask(installation, order)
    saleor.delay_after_next(operation="ReturnProducts", seconds=2)
    with pytest.raises(RetryableError):
        approve(installation, return_request)
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.REQUESTED
    assert return_request.case.events.filter(type="return_sync_failed").exists()

    # when staff approve again
    return_request = approve(installation, ReturnRequest.objects.get(pk=return_request.pk))

    # then our marked return was found in Saleor: approved, with Saleor's return made exactly once
    assert return_request.status == ReturnStatus.APPROVED
    assert mutations(saleor) == ["ReturnProducts"]
    returned = [f for f in saleor.store.order_view(order["id"])["fulfillments"] if f["status"] == "RETURNED"]
    assert len(returned) == 1
    assert return_request.saleor_return_fulfillment_id == returned[0]["id"]


def test_return_requests_of_another_installation_cannot_be_approved(installation, other_installation, saleor):
    # given a return request in this installation
    order = put_order(saleor)
    return_request = ask(installation, order)

    # when another installation's staff try to approve it
    with pytest.raises(PermanentError) as caught:
        return_request_approve(installation=other_installation, return_request=return_request, actor=STAFF)

    # then it does not exist for them
    assert caught.value.code == Code.NOT_FOUND
    assert mutations(saleor) == []
