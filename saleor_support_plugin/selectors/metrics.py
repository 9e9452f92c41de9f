"""Support metrics for one installation over a date range: speed, SLA, satisfaction, volume, automation, money.

Which rows count:
- Case metrics (times, SLA, volume, automation, payment recovery) cover the cases **created** in
  ``[start, end)``, one cohort for all of them, so the numbers add up. Cases merged into another are left
  out (their conversation lives on in the target; counting both would count one problem twice).
- CSAT and NPS cover the answers **given** in ``[start, end)`` (the usual reading of "CSAT this month").
- ``channel`` is the contact channel a case came in through, in ``MessageChannel`` terms: storefront,
  email, dashboard (opened by staff) or system (opened by a rule). It does not apply to NPS, which is
  about orders. ``sales_channel`` is a Saleor channel slug, matched through the case's order/checkout.

Times are wall-clock seconds (not business hours; the SLA figures account for those). Medians and p90
are ``percentile_cont`` (linear interpolation), computed by PostgreSQL; elsewhere (SQLite under ``make
run``) the same definition is computed in Python over the durations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery, Sum

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CaseRule,
    CaseSource,
    CheckoutSnapshot,
    FeedbackKind,
    FeedbackRequest,
    Installation,
    MessageChannel,
    OrderSnapshot,
)
from saleor_support_plugin.selectors.percentiles import duration_percentiles

CHANNEL_BY_SOURCE: dict[str, str] = {
    CaseSource.STOREFRONT.value: MessageChannel.STOREFRONT.value,
    CaseSource.EMAIL.value: MessageChannel.EMAIL.value,
    CaseSource.STAFF.value: MessageChannel.DASHBOARD.value,
    CaseSource.AUTO.value: MessageChannel.SYSTEM.value,
}
SOURCE_BY_CHANNEL = {channel: source for source, channel in CHANNEL_BY_SOURCE.items()}
PAYMENT_FAILURE_RULES = (CaseRule.CHECKOUT_PAYMENT_FAILED, CaseRule.ORDER_PAYMENT_FAILED)
# (start field, end field) of each duration we report.
DURATIONS = {"first_response": ("created_at", "first_responded_at"), "resolution": ("created_at", "resolved_at")}


@dataclass(frozen=True)
class DurationStats:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class SlaTarget:
    """Cases whose target is settled (met, or missed) so far, and how many of them met it."""

    settled: int
    met: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.settled, 2) if self.settled else None


@dataclass(frozen=True)
class SlaAttainment:
    first_response: SlaTarget
    resolution: SlaTarget
    # Per case: settled when any target is, met when none of its targets was missed.
    overall: SlaTarget


@dataclass(frozen=True)
class CsatStats:
    responses: int
    average: float | None
    distribution: dict[int, int]


@dataclass(frozen=True)
class NpsStats:
    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> float | None:
        """% promoters (9–10) minus % detractors (0–6), from -100 to 100."""
        return round(100 * (self.promoters - self.detractors) / self.responses, 2) if self.responses else None


@dataclass(frozen=True)
class AutomationStats:
    cases: int
    opened_by_rule: int
    resolved: int
    resolved_by_rule: int
    resolved_by_staff: int
    resolved_by_other: int

    @property
    def opened_by_rule_percent(self) -> float | None:
        return round(100 * self.opened_by_rule / self.cases, 2) if self.cases else None

    @property
    def resolved_by_rule_percent(self) -> float | None:
        return round(100 * self.resolved_by_rule / self.resolved, 2) if self.resolved else None


@dataclass(frozen=True)
class CurrencyRecovery:
    currency: str
    cases: int
    at_risk: Decimal
    recovered: Decimal


@dataclass(frozen=True)
class SupportMetrics:
    start: datetime
    end: datetime
    channel: str | None
    sales_channel: str | None
    first_response: DurationStats
    resolution: DurationStats
    sla: SlaAttainment
    csat: CsatStats
    nps: NpsStats
    automation: AutomationStats
    volume_by_reason: dict[str, int] = field(default_factory=dict)
    volume_by_channel: dict[str, int] = field(default_factory=dict)
    payment_recovery: list[CurrencyRecovery] = field(default_factory=list)


def _durations(cohort: QuerySet[Case], start: str, end: str) -> DurationStats:
    count, (median, p90) = duration_percentiles(cohort.filter(**{f"{end}__isnull": False}), start, end, (0.5, 0.9))
    return DurationStats(count, median, p90)


def _cohort(
    installation: Installation, start: datetime, end: datetime, channel: str | None, sales_channel: str | None
) -> QuerySet[Case]:
    cases = Case.objects.filter(
        installation=installation, created_at__gte=start, created_at__lt=end, merged_into__isnull=True
    )
    if channel:
        cases = cases.filter(source=SOURCE_BY_CHANNEL[channel])
    if sales_channel:
        orders = OrderSnapshot.objects.filter(installation=installation, channel_slug=sales_channel)
        checkouts = CheckoutSnapshot.objects.filter(installation=installation, channel_slug=sales_channel)
        cases = cases.filter(
            Q(order_saleor_id__in=orders.values("saleor_id")) | Q(checkout_saleor_id__in=checkouts.values("saleor_id"))
        )
    return cases


def _sla_and_automation(cohort: QuerySet[Case]) -> tuple[SlaAttainment, AutomationStats]:
    fr_settled = Q(first_response_due_at__isnull=False) & (
        Q(first_responded_at__isnull=False) | Q(sla_first_response_breached=True)
    )
    res_settled = Q(resolution_due_at__isnull=False) & (
        Q(resolved_at__isnull=False) | Q(closed_at__isnull=False) | Q(sla_resolution_breached=True)
    )
    unbroken = Q(sla_first_response_breached=False, sla_resolution_breached=False)
    row = cohort.aggregate(
        cases=Count("pk"),
        fr_settled=Count("pk", filter=fr_settled),
        fr_met=Count("pk", filter=fr_settled & Q(sla_first_response_breached=False)),
        res_settled=Count("pk", filter=res_settled),
        res_met=Count("pk", filter=res_settled & Q(sla_resolution_breached=False)),
        all_settled=Count("pk", filter=fr_settled | res_settled),
        all_met=Count("pk", filter=(fr_settled | res_settled) & unbroken),
        opened_by_rule=Count("pk", filter=Q(source=CaseSource.AUTO)),
    )
    sla = SlaAttainment(
        first_response=SlaTarget(row["fr_settled"], row["fr_met"]),
        resolution=SlaTarget(row["res_settled"], row["res_met"]),
        overall=SlaTarget(row["all_settled"], row["all_met"]),
    )
    # Who resolved each resolved case last (its latest case_resolved event): a rule, staff, or someone else.
    resolver = CaseEvent.objects.filter(case=OuterRef("pk"), type="case_resolved").order_by("-created_at", "-pk")
    by_actor = dict(
        cohort.filter(resolved_at__isnull=False)
        .annotate(resolver=Subquery(resolver.values("actor_type")[:1]))
        .values("resolver")
        .annotate(n=Count("pk"))
        .values_list("resolver", "n")
    )
    resolved = sum(by_actor.values())
    automation = AutomationStats(
        cases=row["cases"],
        opened_by_rule=row["opened_by_rule"],
        resolved=resolved,
        resolved_by_rule=by_actor.get("rule", 0),
        resolved_by_staff=by_actor.get("staff", 0),
        resolved_by_other=resolved - by_actor.get("rule", 0) - by_actor.get("staff", 0),
    )
    return sla, automation


def _answers(
    installation: Installation, kind: str, start: datetime, end: datetime, sales_channel: str | None
) -> QuerySet[FeedbackRequest]:
    answers = FeedbackRequest.objects.filter(
        installation=installation, kind=kind, answered_at__gte=start, answered_at__lt=end, score__isnull=False
    )
    return answers.filter(channel_slug=sales_channel) if sales_channel else answers


def _scores(answers: QuerySet[FeedbackRequest]) -> dict[int, int]:
    return dict(answers.order_by().values("score").annotate(n=Count("pk")).values_list("score", "n"))


def _csat(answers: QuerySet[FeedbackRequest], channel: str | None) -> CsatStats:
    if channel:
        answers = answers.filter(case__source=SOURCE_BY_CHANNEL[channel])
    counts = _scores(answers)
    average = answers.aggregate(average=Avg("score"))["average"]
    return CsatStats(
        responses=sum(counts.values()),
        average=round(float(average), 4) if average is not None else None,
        distribution={score: counts.get(score, 0) for score in range(1, 6)},
    )


def _nps(answers: QuerySet[FeedbackRequest]) -> NpsStats:
    counts = _scores(answers)
    return NpsStats(
        responses=sum(counts.values()),
        promoters=sum(n for score, n in counts.items() if score >= 9),
        passives=sum(n for score, n in counts.items() if 7 <= score <= 8),
        detractors=sum(n for score, n in counts.items() if score <= 6),
    )


def _volume(cohort: QuerySet[Case], key: str, names: dict[str, str] | None = None) -> dict[str, int]:
    """Case counts per value of ``key`` (renamed through ``names``), largest first, then by name."""
    rows = cohort.order_by().values(key).annotate(n=Count("pk")).values_list(key, "n")
    named = [((names or {}).get(value, value), n) for value, n in rows]
    return dict(sorted(named, key=lambda row: (-row[1], row[0])))


def _payment_recovery(cohort: QuerySet[Case]) -> list[CurrencyRecovery]:
    rows = (
        cohort.filter(rule__in=PAYMENT_FAILURE_RULES)
        .order_by("currency")
        .values("currency")
        .annotate(cases=Count("pk"), at_risk=Sum("value_at_risk"), recovered=Sum("recovered_amount"))
    )
    zero = Decimal("0")
    return [
        CurrencyRecovery(row["currency"], row["cases"], row["at_risk"] or zero, row["recovered"] or zero)
        for row in rows
    ]


def _validate(start: datetime, end: datetime, channel: str | None) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise PermanentError(SupportErrorCode.INVALID, "start and end need a time zone.", field="start")
    if start >= end:
        raise PermanentError(SupportErrorCode.INVALID, "start must be before end.", field="end")
    if channel and channel not in SOURCE_BY_CHANNEL:
        raise PermanentError(SupportErrorCode.INVALID, f"Unknown channel {channel!r}.", field="channel")


def metrics_get(
    *,
    installation: Installation,
    start: datetime,
    end: datetime,
    channel: str | None = None,
    sales_channel: str | None = None,
) -> SupportMetrics:
    """All support metrics of ``installation`` for ``[start, end)`` (see the module docstring for scope).

    Raises PermanentError INVALID for naive or inverted ranges and unknown channels. About ten queries,
    independent of the number of cases.
    """
    _validate(start, end, channel)
    cohort = _cohort(installation, start, end, channel, sales_channel)
    sla, automation = _sla_and_automation(cohort)
    return SupportMetrics(
        start=start,
        end=end,
        channel=channel or None,
        sales_channel=sales_channel or None,
        first_response=_durations(cohort, *DURATIONS["first_response"]),
        resolution=_durations(cohort, *DURATIONS["resolution"]),
        sla=sla,
        csat=_csat(_answers(installation, FeedbackKind.CSAT, start, end, sales_channel), channel),
        nps=_nps(_answers(installation, FeedbackKind.NPS, start, end, sales_channel)),
        automation=automation,
        volume_by_reason=_volume(cohort, "reason"),
        volume_by_channel=_volume(cohort, "source", CHANNEL_BY_SOURCE),
        payment_recovery=_payment_recovery(cohort),
    )
