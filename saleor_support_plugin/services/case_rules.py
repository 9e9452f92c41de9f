"""Rules that open (and close) support cases by themselves, reading our Saleor snapshots.

Called by the inbox worker after a snapshot changed (never for echoes of our own writes), and by the
delay scan for conditions that only time reveals. Objects whose shopper data was erased (tombstoned,
``gdpr_snapshots``) are ignored like echoes: a case would bring the shopper back. Each rule keeps at
most one active case per (order or checkout, rule) — the database enforces it — and a repeat appends to
that case's timeline.
A rule case resolves itself when its condition clears, recording the amount recovered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.events import RULE
from saleor_support_plugin.models import (
    BusinessCalendar,
    Case,
    CasePriority,
    CaseReason,
    CaseRule,
    CaseSource,
    CheckoutSnapshot,
    Installation,
    OrderSnapshot,
    RuleSetting,
    TransactionEventRecord,
    TransactionSnapshot,
)
from saleor_support_plugin.services.cases import case_open, case_resolve
from saleor_support_plugin.services.gdpr_snapshots import erased_object_exists

logger = logging.getLogger(__name__)

PAYMENT_FAILURES = ("CHARGE_FAILURE", "AUTHORIZATION_FAILURE")
AWAITING_SHIPMENT = ("UNFULFILLED", "PARTIALLY_FULFILLED")
SHIPPED = ("FULFILLED", "PARTIALLY_FULFILLED")
CLOSED_ORDER = ("CANCELED", "EXPIRED", "DRAFT")
NOTICE_RULES = {
    CaseRule.CHECKOUT_PAYMENT_FAILED,
    CaseRule.ORDER_PAYMENT_FAILED,
    CaseRule.ORDER_EXPIRED_UNPAID,
    CaseRule.FULFILLMENT_DELAY,
    CaseRule.DELIVERY_DELAY,
}
# Business hours for the fulfilment delay, calendar days for the delivery delay.
DEFAULT_THRESHOLDS = {CaseRule.FULFILLMENT_DELAY: 48, CaseRule.DELIVERY_DELAY: 3}
REASONS = {
    CaseRule.CHECKOUT_PAYMENT_FAILED: CaseReason.PAYMENT_ISSUE,
    CaseRule.ORDER_PAYMENT_FAILED: CaseReason.PAYMENT_ISSUE,
    CaseRule.ORDER_EXPIRED_UNPAID: CaseReason.PAYMENT_ISSUE,
    CaseRule.FULFILLMENT_DELAY: CaseReason.DELIVERY_DELAY,
    CaseRule.DELIVERY_DELAY: CaseReason.DELIVERY_DELAY,
    CaseRule.REFUND_FAILED: CaseReason.REFUND_STATUS,
    CaseRule.CANCELLED_WITHOUT_REFUND: CaseReason.REFUND_STATUS,
}
PRIORITIES = {CaseRule.REFUND_FAILED: CasePriority.HIGH, CaseRule.CANCELLED_WITHOUT_REFUND: CasePriority.HIGH}
# A merchant's carrier integration may write these on a fulfilment (Saleor has no delivered state).
DELIVERED_KEY = "delivered_at"
PROGRESS_KEY = "delivery_status"


@dataclass(frozen=True)
class RuleConfig:
    enabled: bool
    threshold: int | None
    notify_customer: bool


def rule_config(*, installation: Installation, rule: str) -> RuleConfig:
    row = RuleSetting.objects.filter(installation=installation, rule=rule).first()
    default = DEFAULT_THRESHOLDS.get(rule)
    if row is None:
        return RuleConfig(True, default, True)
    return RuleConfig(row.enabled, row.threshold if row.threshold is not None else default, row.notify_customer)


@dataclass(frozen=True)
class Problem:
    """What a rule found, in the words and numbers the case needs."""

    rule: str
    subject: str
    detail: str
    customer_email: str
    value_at_risk: Decimal | None
    currency: str
    language_code: str = ""
    order: OrderSnapshot | None = None
    checkout_saleor_id: str = ""
    reference: str = ""


def _active(installation: Installation, rule: str, *, order_id: str = "", checkout_id: str = "") -> Case | None:
    qs = Case.objects.for_installation(installation).active().filter(rule=rule)
    qs = qs.filter(order_saleor_id=order_id) if order_id else qs.filter(checkout_saleor_id=checkout_id)
    return qs.first()


def _facts(problem: Problem, case: Case) -> dict[str, str]:
    order = problem.order
    address = (order.shipping_address or {}) if order else {}
    tracking = ""
    if order:
        tracking = next((f.get("trackingNumber") or "" for f in order.fulfillments if f.get("trackingNumber")), "")
    return {
        "case_number": str(case.number),
        "order_number": order.number if order else "",
        "amount": f"{problem.value_at_risk:.2f}" if problem.value_at_risk is not None else "",
        "currency": problem.currency,
        "customer_name": address.get("firstName") or "",
        "tracking_number": tracking,
    }


def _open(installation: Installation, problem: Problem) -> Case | None:
    """Open the rule's case, or append the repeat to the active one. Returns the case opened, if any."""
    order = problem.order
    scope = {"order_id": order.saleor_id} if order else {"checkout_id": problem.checkout_saleor_id}
    config = rule_config(installation=installation, rule=problem.rule)
    if not config.enabled:
        return None
    existing = _active(installation, problem.rule, **scope)
    if existing is None:
        try:
            case = case_open(
                installation=installation,
                subject=problem.subject,
                reason=REASONS[problem.rule],
                source=CaseSource.AUTO,
                actor=RULE,
                customer_email=problem.customer_email,
                saleor_user_id=order.saleor_user_id if order else "",
                priority=PRIORITIES.get(problem.rule, CasePriority.NORMAL),
                rule=problem.rule,
                order_saleor_id=order.saleor_id if order else "",
                order_number=order.number if order else "",
                checkout_saleor_id=problem.checkout_saleor_id,
                value_at_risk=problem.value_at_risk,
                currency=problem.currency,
                language_code=problem.language_code,
                detail=problem.detail,
            )
        except IntegrityError:
            # A concurrent worker opened it a moment ago (the partial unique index said so).
            existing = _active(installation, problem.rule, **scope)
        else:
            _notify(case, problem, config)
            return case
    if existing is not None and _last_detail(existing) != problem.detail:
        events.event_case_condition_repeated(case=existing, detail=problem.detail, reference=problem.reference)
    return None


def _last_detail(case: Case) -> str:
    """The detail last recorded for this condition, so re-evaluating an unchanged order adds nothing."""
    last = case.events.filter(type__in=("case_opened", "condition_repeated")).order_by("-pk").first()
    return (last.parameters.get("detail") or "") if last else ""


def _notify(case: Case, problem: Problem, config: RuleConfig) -> None:
    if problem.rule not in NOTICE_RULES or not config.notify_customer:
        return
    from saleor_support_plugin.services.notices import notice_queue

    notice_queue(case=case, rule=problem.rule, facts=_facts(problem, case))


def _resolve(
    installation: Installation, rule: str, *, why: str, recovered: Decimal | None = None, **scope: str
) -> Case | None:
    case = _active(installation, rule, **scope)
    if case is None:
        return None
    return case_resolve(case=case, actor=RULE, recovered_amount=recovered, why=why)


def _money(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal("0")


def order_is_paid(order: OrderSnapshot) -> bool:
    """The shopper's money arrived: charged, authorised or already refunded covers the total.

    Refunded money counts because a refund moves it out of ``totalCharged``; a refunded order was paid.
    Pending charge requests do not count (the scenarios show a pending request flips checkouts to FULL).
    """
    if order.total_gross is None or order.total_gross <= 0:
        return False
    covered = _money(order.total_charged) + _money(order.total_authorized) + _money(order.total_refunded)
    return covered >= order.total_gross


def _checkout_paid(checkout: CheckoutSnapshot) -> bool:
    if checkout.total_gross is None or checkout.total_gross <= 0:
        return False
    txs = TransactionSnapshot.objects.filter(
        installation_id=checkout.installation_id, checkout_saleor_id=checkout.saleor_id
    )
    covered = sum((_money(t.charged_amount) + _money(t.authorized_amount) for t in txs), Decimal("0"))
    return covered >= checkout.total_gross


def _unhandled_failures(installation: Installation, tx_ids: list[str]) -> list[TransactionEventRecord]:
    return list(
        TransactionEventRecord.objects.filter(
            installation=installation,
            transaction_saleor_id__in=tx_ids,
            type__in=PAYMENT_FAILURES,
            rule_handled_at__isnull=True,
        ).order_by("saleor_created_at", "pk")
    )


def _mark_handled(records: list[TransactionEventRecord]) -> None:
    TransactionEventRecord.objects.filter(pk__in=[r.pk for r in records]).update(rule_handled_at=timezone.now())


def _describe(records: list[TransactionEventRecord]) -> str:
    return "; ".join(f"{r.type} {r.message or ''}".strip() for r in records)[:500]


def case_rules_on_checkout(*, installation: Installation, checkout: CheckoutSnapshot) -> None:
    """Payment failures on a checkout open a case; a later full payment resolves it with the amount.

    A tombstoned checkout (its shopper's data was erased) is ignored.
    """
    if erased_object_exists(installation=installation, saleor_id=checkout.saleor_id):
        return
    tx_ids = list(
        TransactionSnapshot.objects.filter(
            installation=installation, checkout_saleor_id=checkout.saleor_id
        ).values_list("saleor_id", flat=True)
    )
    failures = _unhandled_failures(installation, tx_ids)
    if _checkout_paid(checkout):
        _mark_handled(failures)
        _resolve(
            installation,
            CaseRule.CHECKOUT_PAYMENT_FAILED,
            checkout_id=checkout.saleor_id,
            why="payment succeeded",
            recovered=checkout.total_gross,
        )
        return
    if not failures or not checkout.email:
        return  # without an e-mail there is nobody to follow up with yet; the next change retries
    _open(
        installation,
        Problem(
            rule=CaseRule.CHECKOUT_PAYMENT_FAILED,
            subject=f"Payment failed at checkout ({checkout.email})",
            detail=_describe(failures),
            customer_email=checkout.email,
            value_at_risk=checkout.total_gross,
            currency=checkout.currency,
            language_code=checkout.language_code,
            checkout_saleor_id=checkout.saleor_id,
            reference=failures[-1].saleor_id,
        ),
    )
    _mark_handled(failures)


def _order_problem(order: OrderSnapshot, rule: str, subject: str, detail: str, value: Decimal | None) -> Problem:
    return Problem(
        rule=rule,
        subject=f"{subject} (order #{order.number})",
        detail=detail,
        customer_email=order.user_email,
        value_at_risk=value,
        currency=order.currency,
        language_code=order.language_code,
        order=order,
    )


def _order_payment_rules(installation: Installation, order: OrderSnapshot) -> None:
    tx_ids = list(
        TransactionSnapshot.objects.filter(installation=installation, order_saleor_id=order.saleor_id).values_list(
            "saleor_id", flat=True
        )
    )
    failures = _unhandled_failures(installation, tx_ids)
    if order_is_paid(order):
        _mark_handled(failures)
        _resolve(
            installation,
            CaseRule.ORDER_PAYMENT_FAILED,
            order_id=order.saleor_id,
            why="payment succeeded",
            recovered=order.total_charged,
        )
        # The shopper completed this checkout after all: its payment-failure case is recovered too.
        if order.checkout_id:
            _resolve(
                installation,
                CaseRule.CHECKOUT_PAYMENT_FAILED,
                checkout_id=order.checkout_id,
                why="order placed and paid",
                recovered=order.total_charged,
            )
        return
    if failures and order.status not in CLOSED_ORDER:
        owed = _money(order.total_gross) - _money(order.total_charged)
        _open(
            installation,
            _order_problem(order, CaseRule.ORDER_PAYMENT_FAILED, "Payment failed", _describe(failures), owed),
        )
    _mark_handled(failures)


def _order_money_rules(installation: Installation, order: OrderSnapshot) -> None:
    if order.status == "EXPIRED":
        _open(
            installation,
            _order_problem(
                order, CaseRule.ORDER_EXPIRED_UNPAID, "Order expired unpaid", "status EXPIRED", order.total_gross
            ),
        )
    charged = _money(order.total_charged)
    if order.status == "CANCELED" and charged > 0:
        _open(
            installation,
            _order_problem(
                order,
                CaseRule.CANCELLED_WITHOUT_REFUND,
                "Cancelled after payment, not refunded",
                f"charged {charged}",
                charged,
            ),
        )
    elif order.status == "CANCELED":
        _resolve(
            installation,
            CaseRule.CANCELLED_WITHOUT_REFUND,
            order_id=order.saleor_id,
            why="refunded",
            recovered=order.total_refunded,
        )
    # Grants our own refund flow made carry "[support:<key>]" and already live on the staff's case.
    failed = [
        g for g in order.granted_refunds if g.get("status") == "FAILURE" and "[support:" not in (g.get("reason") or "")
    ]
    succeeded = [g for g in order.granted_refunds if g.get("status") == "SUCCESS"]
    if failed and not succeeded:
        amount = sum((Decimal(str((g.get("amount") or {}).get("amount", 0))) for g in failed), Decimal("0"))
        _open(
            installation,
            _order_problem(
                order, CaseRule.REFUND_FAILED, "Refund failed", f"{len(failed)} granted refund(s) failed", amount
            ),
        )
    elif succeeded:
        _resolve(
            installation,
            CaseRule.REFUND_FAILED,
            order_id=order.saleor_id,
            why="refund went through",
            recovered=order.total_refunded,
        )


def _active_fulfillments(order: OrderSnapshot) -> list[dict]:
    return [f for f in order.fulfillments if f.get("status") in ("FULFILLED", "WAITING_FOR_APPROVAL")]


def _meta(fulfillment: dict) -> dict[str, str]:
    return {m["key"]: m["value"] for m in fulfillment.get("metadata") or []}


def _delivery_problem(order: OrderSnapshot, now: datetime, days: int) -> tuple[str, datetime | None]:
    """Why the parcel looks stuck ("" if it does not) and when to look again.

    Saleor has no delivered state: a fulfilment with no tracking number ``days`` after shipping is stuck;
    one whose carrier integration reports progress (fulfilment metadata ``delivery_status``) is stuck when
    that progress stops for ``days``. Fulfilments marked ``delivered_at`` are done.
    """
    horizon = timedelta(days=days)
    next_due: datetime | None = None
    for fulfillment in _active_fulfillments(order):
        meta = _meta(fulfillment)
        created = fulfillment.get("created")
        if DELIVERED_KEY in meta or not created:
            continue
        if not fulfillment.get("trackingNumber"):
            due = datetime.fromisoformat(created) + horizon
            if due <= now:
                return (
                    f"fulfilment {fulfillment.get('fulfillmentOrder')} has no tracking number after {days} days",
                    None,
                )
        elif PROGRESS_KEY in meta:
            due = (order.last_tracking_at or datetime.fromisoformat(created)) + horizon
            if due <= now:
                return f"no delivery progress on {fulfillment.get('trackingNumber')} for {days} days", None
        else:
            continue
        next_due = _earliest(next_due, due)
    return "", next_due


def _paid_at(order: OrderSnapshot) -> datetime | None:
    return order.paid_at or (order.saleor_updated_at if order_is_paid(order) else None)


def _fulfillment_due(installation: Installation, order: OrderSnapshot, hours: int) -> datetime | None:
    from saleor_support_plugin.services import sla

    paid_at = _paid_at(order)
    if paid_at is None:
        return None
    sla.sla_defaults_ensure(installation=installation)
    calendar = BusinessCalendar.objects.filter(installation=installation).order_by("pk").first()
    return sla.business_minutes_add(calendar=calendar, start=paid_at, minutes=hours * 60)


def _delay_rules(installation: Installation, order: OrderSnapshot, now: datetime) -> datetime | None:
    """Open or clear delay cases; return when this order must be looked at again (or None)."""
    fulfil = rule_config(installation=installation, rule=CaseRule.FULFILLMENT_DELAY)
    deliver = rule_config(installation=installation, rule=CaseRule.DELIVERY_DELAY)
    if order.status not in AWAITING_SHIPMENT:
        _resolve(installation, CaseRule.FULFILLMENT_DELAY, order_id=order.saleor_id, why="shipped")
    next_check = None
    if order.status in AWAITING_SHIPMENT and fulfil.enabled and order.status not in CLOSED_ORDER:
        due = _fulfillment_due(installation, order, fulfil.threshold or 0)
        if due is not None and due <= now:
            _open(
                installation,
                _order_problem(
                    order,
                    CaseRule.FULFILLMENT_DELAY,
                    "Paid but not shipped",
                    f"not shipped {fulfil.threshold} business hours after payment",
                    None,
                ),
            )
        elif due is not None:
            next_check = due
    if order.status in SHIPPED and deliver.enabled:
        why, due = _delivery_problem(order, now, deliver.threshold or 0)
        if why:
            _open(installation, _order_problem(order, CaseRule.DELIVERY_DELAY, "Delivery delayed", why, None))
        else:
            _resolve(installation, CaseRule.DELIVERY_DELAY, order_id=order.saleor_id, why="parcel moving")
            next_check = _earliest(next_check, due)
    return next_check


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if (a or b) else None


def case_rules_on_order(*, installation: Installation, order: OrderSnapshot, now: datetime | None = None) -> None:
    """Evaluate every order rule against the current snapshot. Caller is inside ``atomic``.

    Writes: Case/CaseEvent/Message rows through the case services, TransactionEventRecord.rule_handled_at,
    OrderSnapshot.delay_check_at. Notices are queued (sent after commit). A tombstoned order (its shopper's
    data was erased) writes nothing but leaving the delay scan.
    """
    if erased_object_exists(installation=installation, saleor_id=order.saleor_id):
        # No rule may open, update or resolve a case about it; nor should the delay scan keep coming back.
        if order.delay_check_at is not None:
            OrderSnapshot.objects.filter(pk=order.pk).update(delay_check_at=None)
            order.delay_check_at = None
        return
    now = now or timezone.now()
    _order_payment_rules(installation, order)
    _order_money_rules(installation, order)
    next_check = _delay_rules(installation, order, now)
    if order.delay_check_at != next_check:
        OrderSnapshot.objects.filter(pk=order.pk).update(delay_check_at=next_check)
        order.delay_check_at = next_check


def case_rules_on_transaction(*, installation: Installation, tx: TransactionSnapshot) -> None:
    """A transaction changed on its own (metadata webhook or the failure poll): evaluate its owner.

    Its owner's tombstone decides (checked there): a transaction's rules are its order's or checkout's.
    """
    if tx.order_saleor_id:
        order = OrderSnapshot.objects.filter(installation=installation, saleor_id=tx.order_saleor_id).first()
        if order is not None:
            case_rules_on_order(installation=installation, order=order)
    elif tx.checkout_saleor_id:
        checkout = CheckoutSnapshot.objects.filter(installation=installation, saleor_id=tx.checkout_saleor_id).first()
        if checkout is not None:
            case_rules_on_checkout(installation=installation, checkout=checkout)


def delay_scan(*, now: datetime | None = None, batch: int = 500) -> int:
    """Re-evaluate orders whose delay deadline has passed (index ``order_snapshot_delay_idx``). Returns count."""
    from django.db import transaction

    now = now or timezone.now()
    ids = list(
        OrderSnapshot.objects.filter(delay_check_at__lte=now)
        .order_by("delay_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in ids:
        with transaction.atomic():
            order = (
                OrderSnapshot.objects.select_for_update(skip_locked=True)
                .select_related("installation")
                .filter(pk=pk, delay_check_at__lte=now)
                .first()
            )
            if order is not None:
                case_rules_on_order(installation=order.installation, order=order, now=now)
    return len(ids)
