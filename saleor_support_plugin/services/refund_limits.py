"""Per-installation caps on refunds made through support (``RefundLimit``), checked before Saleor is called.

Per refund, and over a rolling 24 hours per currency counting every ledger row that has not failed. The
authoritative check runs with the limit row locked, in the transaction that writes the ledger row, so two
refunds cannot both slip under the daily cap.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.errors import PermanentError, SupportError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, Installation, OrderSnapshot, RefundLimit, RefundRecord, RefundStatus

Code = SupportErrorCode


def refund_limit_set(
    *, installation: Installation, max_per_refund: Decimal | None, max_per_day: Decimal | None
) -> RefundLimit:
    """Set the installation's refund caps (None = no cap). Writes: RefundLimit."""
    for field, value in (("max_per_refund", max_per_refund), ("max_per_day", max_per_day)):
        if value is not None and value < 0:
            raise PermanentError(Code.INVALID, "A refund limit cannot be negative.", field=field)
    limit, _ = RefundLimit.objects.update_or_create(
        installation=installation, defaults={"max_per_refund": max_per_refund, "max_per_day": max_per_day}
    )
    return limit


def refund_limits_check(
    installation: Installation, *, amount: Decimal, currency: str, lock: bool, exclude_pk: int | None = None
) -> None:
    """Raise REFUND_LIMIT_EXCEEDED if ``amount`` passes a cap. With ``lock`` the caller is inside
    ``transaction.atomic`` and writes its ledger row in it; ``exclude_pk`` leaves a retried row out of the sum.
    """
    qs = RefundLimit.objects.filter(installation=installation)
    limit = (qs.select_for_update() if lock else qs).first()
    if limit is None:
        return
    if limit.max_per_refund is not None and amount > limit.max_per_refund:
        raise PermanentError(
            Code.REFUND_LIMIT_EXCEEDED,
            f"{amount} {currency} is above this shop's limit of {limit.max_per_refund} per refund.",
            field="amount",
        )
    if limit.max_per_day is None or not currency:
        return
    used = (
        RefundRecord.objects.filter(
            installation=installation, currency=currency, created_at__gte=timezone.now() - timedelta(days=1)
        )
        .exclude(status=RefundStatus.FAILED)
        .exclude(pk=exclude_pk)
        .aggregate(total=Sum("amount"))["total"]
    ) or Decimal(0)
    if used + amount > limit.max_per_day:
        raise PermanentError(
            Code.REFUND_LIMIT_EXCEEDED,
            f"{used} {currency} was refunded in the last 24 hours; {amount} more would pass the daily limit "
            f"of {limit.max_per_day}.",
            field="amount",
        )


def refund_limits_check_early(installation: Installation, case: Case, *, amount: Decimal, actor: Actor) -> None:
    """Refuse an explicit amount over the limits before talking to Saleor at all."""
    currency = case.currency or (
        OrderSnapshot.objects.filter(installation=installation, saleor_id=case.order_saleor_id)
        .values_list("currency", flat=True)
        .first()
        or ""
    )
    try:
        refund_limits_check(installation, amount=amount, currency=currency, lock=False)
    except PermanentError as exc:
        refund_refused_record(case, actor, exc, amount=amount, currency=currency)
        raise


def refund_refused_record(
    case: Case, actor: Actor, exc: SupportError, *, amount: Decimal | None, currency: str
) -> None:
    if exc.code == Code.REFUND_LIMIT_EXCEEDED:
        events.event_refund_refused(
            case=case, actor=actor, code=exc.code, message=exc.message, amount=amount, currency=currency
        )
