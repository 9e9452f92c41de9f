"""Staff refunds through Saleor: granted once, sent once, whatever fails in between (docs §7.3).

Each test drives ``refund_issue`` against FakeSaleor, which answers orderGrantRefundCreate and
transactionRequestRefundForGrantedRefund the way the lab's Saleor 3.24 did (scenarios.json d_*).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.models import CaseEvent, CaseStatus, RefundRecord, RefundStatus
from saleor_support_plugin.services.cases import case_status_set
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.refund_limits import refund_limit_set
from saleor_support_plugin.services.refunds import RefundLine, refund_issue, refund_resume
from tests.refunds.shop import APP_ID, STAFF, event_types, mutations, open_case, put_order

KEY = "refund-7d1c2a9e"


def issue(installation, case, *, key: str = KEY, **kw):
    kw.setdefault("reason", "Damaged in transit")
    return refund_issue(installation=installation, case=case, idempotency_key=key, actor=STAFF, **kw)


def tee(order: dict, quantity: int = 1) -> list[RefundLine]:
    return [RefundLine(order_line_id=order["lines"][0]["id"], quantity=quantity, reason="Damaged")]


def test_refund_by_lines_is_granted_on_the_charged_transaction_then_sent(installation, saleor):
    # given a fulfilled order paid 40 USD whose payment app answers refunds asynchronously
    order = put_order(saleor)
    case = open_case(installation, order)

    # when staff refund one tee from the case
    record = issue(installation, case, lines=tee(order))

    # then Saleor first showed us the order, then got one grant and one refund request, and we read the result
    assert saleor.operations() == ["RefundOrderState", "RefundGrantCreate", "RefundGrantSend", "RefundOrderState"]
    grant_input = saleor.requests[1][1]["input"]
    assert grant_input["transactionId"] == order["transactions"][0]["id"]
    assert grant_input["lines"] == [{"id": order["lines"][0]["id"], "quantity": 1, "reason": "Damaged"}]
    assert "amount" not in grant_input  # Saleor prices the lines itself
    # and the grant carries our key, so a retry can recognise it
    (grant,) = saleor.mutations.grants(order["id"])
    assert grant["reason"] == f"Damaged in transit (support case #{case.number}) [support:{KEY}]"
    assert grant["status"] == "PENDING"
    # and the ledger row tells the same story
    record.refresh_from_db()
    assert (record.status, record.amount, record.currency) == (RefundStatus.PENDING, Decimal("20"), "USD")
    assert record.grant_saleor_id == grant["id"]
    assert record.transaction_saleor_id == order["transactions"][0]["id"]
    assert record.actor_email == STAFF.email
    assert record.lease_until is None
    # and every step is on the case timeline with who did it
    assert event_types(case)[-3:] == ["refund_requested", "refund_granted", "refund_sent"]
    sent = case.events.get(type="refund_sent")
    assert (sent.actor_type, sent.actor_email) == ("staff", STAFF.email)
    assert sent.parameters["grant_id"] == grant["id"]


def test_a_pending_refund_turns_succeeded_when_looked_at_again(installation, saleor):
    # given a refund the payment app has since confirmed (transactionEventReport REFUND_SUCCESS)
    order = put_order(saleor)
    case = open_case(installation, order)
    record = issue(installation, case, lines=tee(order))
    saleor.mutations.settle_refund(record.grant_saleor_id, success=True)
    before = len(saleor.requests)

    # when the same refund is issued again (same key)
    again = issue(installation, case, lines=tee(order))

    # then it is read, not sent again, and the ledger says refunded
    assert again.pk == record.pk
    assert again.status == RefundStatus.SUCCEEDED
    assert [op for op, _, _ in saleor.requests[before:]] == ["RefundOrderState"]
    assert event_types(case)[-1] == "refund_succeeded"


def test_a_payment_app_that_refunds_synchronously_finishes_in_one_call(installation, saleor):
    # given a payment app that answers REFUND_SUCCESS at once (d_refund_sync_success)
    order = put_order(saleor, behaviour="sync_success")
    case = open_case(installation, order)

    # when staff refund an explicit amount
    record = issue(installation, case, amount=Decimal("15"))

    # then the grant asked for exactly that amount and the refund is done
    assert saleor.requests[1][1]["input"]["amount"] == "15"
    assert record.status == RefundStatus.SUCCEEDED
    assert record.completed_at is not None
    assert event_types(case)[-4:] == ["refund_requested", "refund_granted", "refund_sent", "refund_succeeded"]


def test_saleor_timing_out_after_creating_the_grant_is_retried_without_a_second_grant(
    installation, saleor, short_timeout
):
    # given Saleor creates the grant but answers only after our client gave up
    order = put_order(saleor)
    case = open_case(installation, order)
    saleor.delay_after_next(operation="RefundGrantCreate", seconds=2)

    # when staff issue the refund
    with pytest.raises(RetryableError) as caught:
        issue(installation, case, lines=tee(order))

    # then we are told to try again, the ledger waits in "requested" — and Saleor does hold a grant
    assert caught.value.code == SupportErrorCode.TEMPORARILY_UNAVAILABLE
    record = RefundRecord.objects.get(installation=installation, idempotency_key=KEY)
    assert (record.status, record.error_code, record.grant_saleor_id) == ("requested", "TEMPORARILY_UNAVAILABLE", "")
    assert len(saleor.mutations.grants(order["id"])) == 1
    assert event_types(case)[-1] == "refund_interrupted"

    # when the same refund is retried with the same key
    record = issue(installation, case, lines=tee(order))

    # then the retry found its own grant and only sent it: still exactly one grant, one create, one send
    (grant,) = saleor.mutations.grants(order["id"])
    assert record.grant_saleor_id == grant["id"]
    assert record.status == RefundStatus.PENDING
    assert mutations(saleor) == ["RefundGrantCreate", "RefundGrantSend"]
    granted = case.events.get(type="refund_granted")
    assert granted.parameters["recovered"] is True


def test_saleor_timing_out_after_sending_is_not_sent_twice(installation, saleor, short_timeout):
    # given Saleor sends the refund to the payment app but our client gives up waiting
    order = put_order(saleor)
    case = open_case(installation, order)
    saleor.delay_after_next(operation="RefundGrantSend", seconds=2)
    with pytest.raises(RetryableError):
        issue(installation, case, lines=tee(order))
    assert RefundRecord.objects.get(idempotency_key=KEY).status == RefundStatus.GRANTED

    # when the refund is retried
    record = issue(installation, case, lines=tee(order))

    # then the grant is seen PENDING in Saleor and nothing is sent again
    assert record.status == RefundStatus.PENDING
    assert mutations(saleor) == ["RefundGrantCreate", "RefundGrantSend"]
    tx = saleor.store.transactions[order["transactions"][0]["id"]]
    assert [e["type"] for e in tx["events"]].count("REFUND_REQUEST") == 1
    assert case.events.filter(type="refund_sent", parameters__already_sent=True).count() == 1


def test_refund_is_pending_from_saleor_means_in_progress_not_failed(installation, saleor, short_timeout):
    # given a refund that was sent (answer lost), and a stale read that still shows its grant as NONE
    order = put_order(saleor)
    case = open_case(installation, order)
    saleor.delay_after_next(operation="RefundGrantSend", seconds=2)
    with pytest.raises(RetryableError):
        issue(installation, case, lines=tee(order))
    client = installation_client(installation=installation)
    stale = client.execute("RefundOrderState", {"id": order["id"]})
    stale["order"]["grantedRefunds"][0]["status"] = "NONE"
    saleor.respond_next(
        status=200,
        body=json.dumps({"data": stale}).encode(),
        content_type="application/json",
        operation="RefundOrderState",
    )

    # when the refund is retried
    record = issue(installation, case, lines=tee(order))

    # then Saleor answered REFUND_IS_PENDING, which the ledger records as pending, not as a failure
    send_answers = [op for op in mutations(saleor) if op == "RefundGrantSend"]
    assert len(send_answers) == 2
    assert record.status == RefundStatus.PENDING
    assert record.error_code == ""
    assert len(saleor.mutations.grants(order["id"])) == 1
    tx = saleor.store.transactions[order["transactions"][0]["id"]]
    assert [e["type"] for e in tx["events"]].count("REFUND_REQUEST") == 1


def test_amount_above_what_was_charged_is_refused_by_saleor_and_recorded(installation, saleor):
    # given an order with 40 USD charged
    order = put_order(saleor)
    case = open_case(installation, order)

    # when staff try to refund 1000 (scenarios step 18)
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, amount=Decimal("1000"))

    # then Saleor's AMOUNT_GREATER_THAN_AVAILABLE becomes our clear code, and nothing was granted
    assert caught.value.code == SupportErrorCode.REFUND_AMOUNT_EXCEEDS_CHARGED
    assert caught.value.field == "amount"
    assert saleor.mutations.grants(order["id"]) == []
    record = RefundRecord.objects.get(idempotency_key=KEY)
    assert record.status == RefundStatus.FAILED
    assert record.error_code == "REFUND_AMOUNT_EXCEEDS_CHARGED"
    assert "Amount cannot be greater than the charged amount of provided transaction." in record.error_message
    assert "AMOUNT_GREATER_THAN_AVAILABLE" in record.error_message
    failed = case.events.get(type="refund_failed")
    assert failed.parameters["stage"] == "grant"


def test_payment_app_without_refund_webhook_fails_clearly_and_can_be_retried_once_fixed(installation, saleor):
    # given a payment app with no TRANSACTION_REFUND_REQUESTED webhook (d_refund_app_without_webhook)
    order = put_order(saleor, behaviour="no_webhook")
    case = open_case(installation, order)

    # when staff refund 20
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, amount=Decimal("20"))

    # then the error says the payment app cannot refund, and the ledger shows the failure and why
    assert caught.value.code == SupportErrorCode.PAYMENT_APP_CANNOT_REFUND
    record = RefundRecord.objects.get(idempotency_key=KEY)
    assert record.status == RefundStatus.FAILED
    assert record.error_code == "PAYMENT_APP_CANNOT_REFUND"
    assert "No app or plugin is configured to handle payment action requests." in record.error_message
    assert "MISSING_TRANSACTION_ACTION_REQUEST_WEBHOOK" in record.error_message
    (grant,) = saleor.mutations.grants(order["id"])
    assert grant["status"] == "FAILURE"
    assert case.events.get(type="refund_failed").parameters["stage"] == "send"

    # when the merchant fixes the payment app and staff retry the same refund
    saleor.mutations.refund_behaviour[order["transactions"][0]["id"]] = "async"
    record = refund_resume(installation=installation, record=record, actor=STAFF)

    # then the same grant is sent again; no second grant
    assert record.status == RefundStatus.PENDING
    assert len(saleor.mutations.grants(order["id"])) == 1
    assert mutations(saleor) == ["RefundGrantCreate", "RefundGrantSend", "RefundGrantSend"]


def test_the_same_idempotency_key_twice_grants_once(installation, saleor):
    # given a refund that went through
    order = put_order(saleor, behaviour="sync_success")
    case = open_case(installation, order)
    first = issue(installation, case, amount=Decimal("10"))
    calls = len(saleor.requests)

    # when the same request arrives again (double click, client retry)
    second = issue(installation, case, amount=Decimal("10"))

    # then it is the same ledger row and Saleor was not called at all
    assert second.pk == first.pk
    assert second.status == RefundStatus.SUCCEEDED
    assert len(saleor.requests) == calls
    assert len(saleor.mutations.grants(order["id"])) == 1


def test_an_idempotency_key_cannot_be_reused_for_another_refund(installation, saleor):
    # given a refund of 10 under a key
    order = put_order(saleor, behaviour="sync_success")
    case = open_case(installation, order)
    issue(installation, case, amount=Decimal("10"))

    # when the key comes back with another amount
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, amount=Decimal("12"))

    # then it is refused instead of silently answering with the first refund
    assert caught.value.code == SupportErrorCode.IDEMPOTENCY_KEY_REUSED
    assert len(saleor.mutations.grants(order["id"])) == 1


def test_refund_above_the_per_refund_limit_is_refused_before_any_saleor_call(installation, saleor):
    # given a shop that lets support refund at most 10 at a time
    order = put_order(saleor)
    case = open_case(installation, order)
    refund_limit_set(installation=installation, max_per_refund=Decimal("10"), max_per_day=None)

    # when staff try 15
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, amount=Decimal("15"))

    # then it is refused with a clear code, Saleor never heard of it, and the refusal is on the timeline
    assert caught.value.code == SupportErrorCode.REFUND_LIMIT_EXCEEDED
    assert saleor.requests == []
    assert not RefundRecord.objects.exists()
    refused = case.events.get(type="refund_refused")
    assert (refused.parameters["code"], refused.actor_email) == ("REFUND_LIMIT_EXCEEDED", STAFF.email)


def test_refunds_beyond_the_daily_limit_are_refused_before_any_mutation(installation, saleor):
    # given a daily limit of 30 and a refund of 20 already made today
    order = put_order(saleor, behaviour="sync_success")
    case = open_case(installation, order)
    refund_limit_set(installation=installation, max_per_refund=None, max_per_day=Decimal("30"))
    issue(installation, case, key="refund-day-0001", amount=Decimal("20"))
    before = mutations(saleor)

    # when staff refund one more tee (priced 20 by Saleor's order lines)
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, key="refund-day-0002", lines=tee(order))

    # then it is refused after reading the order (to price the lines) but before any grant
    assert caught.value.code == SupportErrorCode.REFUND_LIMIT_EXCEEDED
    assert mutations(saleor) == before
    assert RefundRecord.objects.count() == 1


def test_a_case_of_another_installation_cannot_be_refunded(installation, other_installation, saleor):
    # given a case that belongs to another shop
    order = put_order(saleor)
    foreign_case = open_case(other_installation, order)

    # when this installation's staff try to refund it
    with pytest.raises(PermanentError) as caught:
        issue(installation, foreign_case, amount=Decimal("5"))

    # then it does not exist for them, and nobody called Saleor or wrote a ledger row
    assert caught.value.code == SupportErrorCode.NOT_FOUND
    assert saleor.requests == []
    assert not RefundRecord.objects.exists()


def test_a_ledger_row_of_another_installation_cannot_be_resumed(installation, other_installation, saleor):
    # given a refund made in this installation
    order = put_order(saleor, behaviour="no_webhook")
    case = open_case(installation, order)
    with pytest.raises(PermanentError):
        issue(installation, case, amount=Decimal("5"))
    record = RefundRecord.objects.get()

    # when another installation tries to resume it
    with pytest.raises(PermanentError) as caught:
        refund_resume(installation=other_installation, record=record, actor=STAFF)

    # then it is not found for them
    assert caught.value.code == SupportErrorCode.NOT_FOUND


def test_line_quantities_are_capped_across_all_grants_even_failed_ones(installation, saleor):
    # given both tees granted once already, in a grant whose refund failed (it still counts, §7.3)
    order = put_order(saleor, behaviour="no_webhook")
    case = open_case(installation, order)
    with pytest.raises(PermanentError):
        issue(installation, case, key="refund-both-tees", lines=tee(order, 2))

    # when another tee is refunded under a new key
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, key="refund-third-tee", lines=tee(order, 1))

    # then Saleor's per-line cap (QUANTITY_GREATER_THAN_AVAILABLE) comes back as our code, on the lines
    assert caught.value.code == SupportErrorCode.REFUND_QUANTITY_EXCEEDS_AVAILABLE
    assert caught.value.field == "lines"
    assert "Cannot grant refund for more than the available quantity of the line (0)." in caught.value.message
    assert len(saleor.mutations.grants(order["id"])) == 1


def test_a_refund_declined_by_the_payment_provider_is_recorded_as_failed(installation, saleor):
    # given a payment app that answers REFUND_FAILURE (d_refund_sync_failure)
    order = put_order(saleor, behaviour="sync_failure")
    case = open_case(installation, order)

    # when staff refund 20
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, amount=Decimal("20"))

    # then the decline and the provider's words reach staff and the ledger
    assert caught.value.code == SupportErrorCode.REFUND_DECLINED
    record = RefundRecord.objects.get()
    assert record.status == RefundStatus.FAILED
    assert "Refund rejected by PSP" in record.error_message
    assert case.events.get(type="refund_failed").parameters["stage"] == "payment"


def test_missing_handle_payments_permission_is_a_clear_error(installation, saleor):
    # given our app lost HANDLE_PAYMENTS in Saleor (scenarios step 20)
    order = put_order(saleor)
    case = open_case(installation, order)
    saleor.mutations.app_permissions[APP_ID] = frozenset({"MANAGE_ORDERS"})

    # when staff refund
    with pytest.raises(PermanentError) as caught:
        issue(installation, case, amount=Decimal("5"))

    # then the grant exists but sending was denied, which staff see as a permission problem
    assert caught.value.code == SupportErrorCode.SALEOR_PERMISSION_DENIED
    assert "HANDLE_PAYMENTS" in caught.value.message
    assert RefundRecord.objects.get().status == RefundStatus.FAILED


def test_the_transaction_is_one_that_covers_the_amount(installation, saleor):
    # given an order paid by two transactions: 40 and a later 5
    order = put_order(saleor, extra_charges=("5",))
    case = open_case(installation, order)

    # when 20 is refunded
    record = issue(installation, case, amount=Decimal("20"))

    # then it is taken from the transaction that has 20 charged
    assert record.transaction_saleor_id == order["transactions"][0]["id"]


def test_closed_cases_and_bad_input_are_refused_without_calling_saleor(installation, saleor):
    # given a closed case
    order = put_order(saleor)
    case = open_case(installation, order)
    case_status_set(case=case, status=CaseStatus.CLOSED, actor=STAFF)

    # when staff try to refund from it, or send nonsense
    with pytest.raises(PermanentError) as closed:
        issue(installation, case, amount=Decimal("5"))
    with pytest.raises(PermanentError) as nothing:
        issue(installation, case, key="refund-nothing-1")
    with pytest.raises(PermanentError) as short_key:
        issue(installation, case, key="x", amount=Decimal("5"))

    # then each is refused with its own code and Saleor was never called
    assert closed.value.code == SupportErrorCode.INVALID
    assert nothing.value.code == SupportErrorCode.REQUIRED
    assert short_key.value.field == "idempotency_key"
    assert saleor.requests == []
    assert not CaseEvent.objects.filter(type__startswith="refund").exists()
