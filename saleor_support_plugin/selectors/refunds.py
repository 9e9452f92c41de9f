"""Read refunds and returns for staff (by case, by id) and for shoppers (their own returns).

Every function takes the installation: another installation's row is reported exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import Installation, RefundLimit, RefundRecord, ReturnRequest

MAX_ROWS = 200


def _not_found(what: str) -> PermanentError:
    return PermanentError(SupportErrorCode.NOT_FOUND, f"{what} not found.")


def refund_list_for_case(*, installation: Installation, case_id: int) -> list[RefundRecord]:
    """The case's refund ledger, newest first."""
    return list(
        RefundRecord.objects.filter(installation=installation, case_id=case_id).order_by("-created_at")[:MAX_ROWS]
    )


def refund_get_for_staff(*, installation: Installation, refund_id: int | None) -> RefundRecord:
    row = RefundRecord.objects.filter(installation=installation, pk=refund_id).first() if refund_id else None
    if row is None:
        raise _not_found("Refund")
    return row


def refund_limit_get(*, installation: Installation) -> RefundLimit:
    """The installation's refund caps (an unsaved, uncapped row when none were set)."""
    return RefundLimit.objects.filter(installation=installation).first() or RefundLimit(installation=installation)


def _returns(installation: Installation) -> QuerySet[ReturnRequest]:
    return ReturnRequest.objects.filter(installation=installation).prefetch_related("lines").order_by("-created_at")


def return_request_list_for_staff(
    *, installation: Installation, case_id: int | None = None, statuses: tuple[str, ...] = ()
) -> list[ReturnRequest]:
    qs = _returns(installation)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return list(qs[:MAX_ROWS])


def return_request_get_for_staff(*, installation: Installation, return_request_id: int | None) -> ReturnRequest:
    row = _returns(installation).filter(pk=return_request_id).first() if return_request_id else None
    if row is None:
        raise _not_found("Return request")
    return row


def return_request_list_for_shopper(
    *, installation: Installation, email: str, guest_order_id: str = "", order_id: str = ""
) -> list[ReturnRequest]:
    """The shopper's return requests (a guest sees those of the order they proved)."""
    qs = _returns(installation).filter(Q(customer_email__iexact=email.strip()))
    if guest_order_id:
        qs = qs.filter(order_saleor_id=guest_order_id)
    if order_id:
        qs = qs.filter(order_saleor_id=order_id)
    return list(qs[:MAX_ROWS])
