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


class SlaCheck(models.Model):
    """When the SLA scan must next look at a case. One row per case with a check pending; none otherwise.

    The row is deleted (not set to NULL) when nothing can happen (paused, resolved/closed, no policy,
    every target breached): the table holds only pending checks, so ``sla_check_next_idx`` is a plain
    index, and ending a check is a delete (no new row version, no index insert) instead of an update.

    It lives apart from ``support_case`` because the scan moves it on every case it looks at: as an
    indexed column of the wide, many-indexed case table, every such move was a non-HOT update writing
    all of the case's indexes. Here it rewrites a narrow row and two small indexes (the primary key and
    ``sla_check_next_idx``); the case row itself is written only when a case field changes, and none of
    the fields the scan writes is indexed.

    Written only by ``services/sla``: the clock functions (``clocks.py``) and the scan (``scan.py``),
    both with the case row locked, so the case lock also guards this row.
    """

    case = models.OneToOneField("support.Case", primary_key=True, on_delete=models.CASCADE, related_name="sla_check")
    # Tenant scoping only (the scan covers all installations): no index of its own.
    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+", db_index=False)
    next_check_at = models.DateTimeField()

    class Meta:
        db_table = "support_sla_check"
        indexes = [models.Index(fields=["next_check_at"], name="sla_check_next_idx")]

    def __str__(self) -> str:
        return f"case {self.case_id} at {self.next_check_at.isoformat()}"
