from __future__ import annotations

from django.db import models


def default_weekly_hours() -> dict[str, list[list[str]]]:
    """Monday (0) to Friday (4), 09:00–17:00 local time."""
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


class BusinessCalendar(models.Model):
    """When the support team works: weekly hours in a time zone, minus holidays."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"0": [["09:00", "17:00"]], ...}: weekday (Monday=0) → list of local [start, end) intervals.
    weekly_hours = models.JSONField(default=default_weekly_hours)
    # ["2026-12-25", ...] local dates with no business hours.
    holidays = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "support_business_calendar"
        constraints = [models.UniqueConstraint(fields=["installation", "name"], name="calendar_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"


class SlaPolicy(models.Model):
    """First-response and resolution targets, in business minutes, for a priority (and optionally a reason).

    The most specific policy wins: reason + priority, then priority alone.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    priority = models.CharField(max_length=10)
    reason = models.CharField(max_length=32, blank=True, default="")
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    # Warn this many business minutes before a target is due.
    warn_before_minutes = models.PositiveIntegerField(default=60)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "support_sla_policy"
        constraints = [
            models.UniqueConstraint(fields=["installation", "priority", "reason"], name="sla_policy_unique_scope"),
        ]

    def __str__(self) -> str:
        return self.name
