"""Staff: support metrics over a date range (``selectors/metrics.py`` defines what each number counts)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import MANAGE_ORDERS, Info
from saleor_support_plugin.graphql.errors import graphql_error
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.graphql.types.common import Money
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum, MessageChannelEnum
from saleor_support_plugin.selectors import metrics as m


@strawberry.type(name="DurationStats", description="Seconds from the case's creation; percentile_cont.")
class DurationStatsType:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@strawberry.type(name="SlaTarget", description="Cases whose target is settled (met or missed), and met.")
class SlaTargetType:
    settled: int
    met: int
    percent: float | None

    @classmethod
    def of(cls, target: m.SlaTarget) -> SlaTargetType:
        return cls(settled=target.settled, met=target.met, percent=target.percent)


@strawberry.type(name="SlaAttainment")
class SlaAttainmentType:
    first_response: SlaTargetType
    resolution: SlaTargetType
    overall: SlaTargetType = strawberry.field(description="Per case: no settled target of it was missed.")


@strawberry.type(name="ScoreCount")
class ScoreCountType:
    score: int
    count: int


@strawberry.type(name="CsatStats", description="Answers (1–5) given in the range.")
class CsatStatsType:
    responses: int
    average: float | None
    distribution: list[ScoreCountType]


@strawberry.type(name="NpsStats", description="Answers (0–10) given in the range; score = % promoters − % detractors.")
class NpsStatsType:
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


@strawberry.type(name="AutomationStats")
class AutomationStatsType:
    cases: int
    opened_by_rule: int
    opened_by_rule_percent: float | None
    resolved: int
    resolved_by_rule: int
    resolved_by_staff: int
    resolved_by_other: int
    resolved_by_rule_percent: float | None


@strawberry.type(name="ReasonVolume")
class ReasonVolumeType:
    reason: CaseReasonEnum  # type: ignore[valid-type]
    count: int


@strawberry.type(name="ChannelVolume")
class ChannelVolumeType:
    channel: MessageChannelEnum  # type: ignore[valid-type]
    count: int


@strawberry.type(name="PaymentRecovery", description="Payment-failure cases of one currency.")
class PaymentRecoveryType:
    currency: str
    cases: int
    at_risk: Money
    recovered: Money


@strawberry.type(name="SupportMetrics")
class SupportMetricsType:
    start: datetime
    end: datetime
    first_response: DurationStatsType
    resolution: DurationStatsType
    sla: SlaAttainmentType
    csat: CsatStatsType
    nps: NpsStatsType
    automation: AutomationStatsType
    volume_by_reason: list[ReasonVolumeType]
    volume_by_channel: list[ChannelVolumeType]
    payment_recovery: list[PaymentRecoveryType]

    @classmethod
    def of(cls, r: m.SupportMetrics) -> SupportMetricsType:
        a, nps = r.automation, r.nps
        return cls(
            start=r.start,
            end=r.end,
            first_response=DurationStatsType(**vars(r.first_response)),
            resolution=DurationStatsType(**vars(r.resolution)),
            sla=SlaAttainmentType(
                first_response=SlaTargetType.of(r.sla.first_response),
                resolution=SlaTargetType.of(r.sla.resolution),
                overall=SlaTargetType.of(r.sla.overall),
            ),
            csat=CsatStatsType(
                responses=r.csat.responses,
                average=r.csat.average,
                distribution=[ScoreCountType(score=s, count=n) for s, n in r.csat.distribution.items()],
            ),
            nps=NpsStatsType(
                responses=nps.responses,
                promoters=nps.promoters,
                passives=nps.passives,
                detractors=nps.detractors,
                score=nps.score,
            ),
            automation=AutomationStatsType(
                cases=a.cases,
                opened_by_rule=a.opened_by_rule,
                opened_by_rule_percent=a.opened_by_rule_percent,
                resolved=a.resolved,
                resolved_by_rule=a.resolved_by_rule,
                resolved_by_staff=a.resolved_by_staff,
                resolved_by_other=a.resolved_by_other,
                resolved_by_rule_percent=a.resolved_by_rule_percent,
            ),
            volume_by_reason=[ReasonVolumeType(reason=k, count=n) for k, n in r.volume_by_reason.items()],
            volume_by_channel=[ChannelVolumeType(channel=k, count=n) for k, n in r.volume_by_channel.items()],
            payment_recovery=[
                PaymentRecoveryType(
                    currency=p.currency,
                    cases=p.cases,
                    at_risk=Money.of(p.at_risk, p.currency),
                    recovered=Money.of(p.recovered, p.currency),
                )
                for p in r.payment_recovery
            ],
        )


@strawberry.type
class Query:
    @strawberry.field(
        extensions=staff_requires(MANAGE_ORDERS),
        description=(
            "Support metrics of the cases created (CSAT/NPS: answers given) in [start, end); channel is the "
            "contact channel, salesChannel a Saleor channel slug."
        ),
    )
    def support_metrics(
        self,
        info: Info,
        start: datetime,
        end: datetime,
        channel: MessageChannelEnum | None = None,  # type: ignore[valid-type]
        sales_channel: str | None = None,
    ) -> SupportMetricsType:
        staff = info.context.get_staff()
        try:
            result = m.metrics_get(
                installation=staff.installation,
                start=start,
                end=end,
                channel=channel.value if channel else None,
                sales_channel=sales_channel,
            )
        except SupportError as exc:
            raise graphql_error(exc) from exc
        return SupportMetricsType.of(result)
