"""Staff: the installation's survey settings (CSAT after resolution, NPS after delivery)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import MANAGE_ORDERS, Info
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.models import FeedbackSettings
from saleor_support_plugin.selectors.feedback import feedback_settings_get
from saleor_support_plugin.services.feedback import feedback_settings_update

MANAGE = staff_requires(MANAGE_ORDERS)


@strawberry.type(name="FeedbackSettings", description="Whether and when shoppers are asked for feedback.")
class FeedbackSettingsType:
    csat_enabled: bool
    csat_enabled_at: datetime | None
    csat_delay_minutes: int = strawberry.field(description="After resolution, before the CSAT e-mail.")
    nps_enabled: bool
    nps_enabled_at: datetime | None
    nps_delay_minutes: int = strawberry.field(description="After delivery, before the NPS e-mail.")

    @classmethod
    def of(cls, row: FeedbackSettings) -> FeedbackSettingsType:
        return cls(
            csat_enabled=row.csat_enabled,
            csat_enabled_at=row.csat_enabled_at,
            csat_delay_minutes=row.csat_delay_minutes,
            nps_enabled=row.nps_enabled,
            nps_enabled_at=row.nps_enabled_at,
            nps_delay_minutes=row.nps_delay_minutes,
        )


@strawberry.input(name="FeedbackSettingsInput", description="Fields to change; omitted fields stay as they are.")
class FeedbackSettingsInput:
    csat_enabled: bool | None = None
    csat_delay_minutes: int | None = None
    nps_enabled: bool | None = None
    nps_delay_minutes: int | None = None


@strawberry.type(name="FeedbackSettingsUpdate")
class FeedbackSettingsUpdatePayload:
    settings: FeedbackSettingsType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field(extensions=MANAGE, description="The survey settings (both surveys are off until switched on).")
    def feedback_settings(self, info: Info) -> FeedbackSettingsType:
        return FeedbackSettingsType.of(feedback_settings_get(installation=info.context.get_staff().installation))


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=MANAGE, description="Switch the surveys on or off and set their delays.")
    def feedback_settings_update(self, info: Info, input: FeedbackSettingsInput) -> FeedbackSettingsUpdatePayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            row = feedback_settings_update(installation=staff.installation, **vars(input))
        except SupportError as exc:
            return FeedbackSettingsUpdatePayload(errors=error_list(exc))
        return FeedbackSettingsUpdatePayload(settings=FeedbackSettingsType.of(row))
