"""Shoppers ask for refunds; they never move money: the request becomes a case for staff."""

from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import Case, CaseReason, CaseSource, RefundRecord
from saleor_support_plugin.services.refund_requests import refund_request
from saleor_support_plugin.services.refunds import RefundLine
from tests.refunds.shop import CUSTOMER, event_types, mutations, put_order


def test_a_refund_request_opens_a_case_for_staff_and_moves_no_money(installation, saleor):
    # given the shopper's paid order
    order = put_order(saleor)

    # when they ask for a refund of one tee
    case = refund_request(
        installation=installation,
        order_id=order["id"],
        customer_email=CUSTOMER.upper(),
        reason="Arrived torn",
        comment="Photo attached in the next mail",
        lines=[RefundLine(order_line_id=order["lines"][0]["id"], quantity=1)],
    )

    # then staff have a storefront refund case with the details, and Saleor was only read
    assert (case.reason, case.source, case.order_saleor_id) == (
        CaseReason.REFUND_REQUEST,
        CaseSource.STOREFRONT,
        order["id"],
    )
    body = case.messages.get().body
    assert "Arrived torn" in body and "1 × Monospace Tee" in body
    assert event_types(case)[-1] == "customer_refund_requested"
    assert mutations(saleor) == []
    assert not RefundRecord.objects.exists()


def test_asking_again_joins_the_same_case(installation, saleor):
    # given a refund request already open
    order = put_order(saleor)
    first = refund_request(installation=installation, order_id=order["id"], customer_email=CUSTOMER, reason="Torn")

    # when the shopper asks again with an amount
    second = refund_request(
        installation=installation,
        order_id=order["id"],
        customer_email=CUSTOMER,
        reason="Still waiting",
        amount=Decimal("20"),
    )

    # then it is the same case, with a second message
    assert second.pk == first.pk
    assert Case.objects.count() == 1
    assert second.messages.count() == 2


def test_a_refund_request_for_someone_elses_order_is_not_found(installation, saleor):
    # given another customer's order
    order = put_order(saleor, email="someone.else@example.com")

    # when our shopper asks for a refund on it
    with pytest.raises(PermanentError) as caught:
        refund_request(installation=installation, order_id=order["id"], customer_email=CUSTOMER, reason="Mine")

    # then it does not exist for them, and no case was opened
    assert caught.value.code == SupportErrorCode.NOT_FOUND
    assert not Case.objects.exists()


def test_a_logged_in_shopper_is_recognised_by_their_saleor_user(installation, saleor):
    # given an order placed by a Saleor user whose e-mail has changed since
    order = put_order(saleor, email="old.address@example.com")
    saleor.store.orders[order["id"]]["user"] = {"id": "VXNlcjo0Mg==", "email": "old.address@example.com"}

    # when they ask with their current e-mail and their user id (from the customer token)
    case = refund_request(
        installation=installation,
        order_id=order["id"],
        customer_email=CUSTOMER,
        saleor_user_id="VXNlcjo0Mg==",
        reason="Torn",
    )

    # then the order is theirs
    assert case.order_saleor_id == order["id"]
