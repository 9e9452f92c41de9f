"""SLA policies: the defaults every installation starts with, and which policy applies to a case."""

from __future__ import annotations

from django.db import transaction

from saleor_support_plugin.models import BusinessCalendar, CasePriority, Installation, SlaPolicy
from saleor_support_plugin.models.sla import default_weekly_hours

DEFAULT_CALENDAR_NAME = "Default"
# priority → (first response, resolution, warn before), business minutes.
DEFAULT_TARGETS: dict[str, tuple[int, int, int]] = {
    CasePriority.URGENT: (60, 480, 15),
    CasePriority.HIGH: (240, 1440, 60),
    CasePriority.NORMAL: (480, 2880, 60),
    CasePriority.LOW: (1440, 5760, 60),
}


def sla_defaults_ensure(*, installation: Installation) -> None:
    """Create the default calendar ("Default", UTC, Mon–Fri 09:00–17:00) and one policy per priority.

    Only for an installation without any policy; idempotent and safe under concurrency (the installation
    row is locked while checking). An existing "Default" calendar is reused as it is.
    """
    if SlaPolicy.objects.filter(installation=installation).exists():
        return
    with transaction.atomic():
        list(Installation.objects.select_for_update().filter(pk=installation.pk).values_list("pk", flat=True))
        if SlaPolicy.objects.filter(installation=installation).exists():
            return
        calendar, _ = BusinessCalendar.objects.get_or_create(
            installation=installation,
            name=DEFAULT_CALENDAR_NAME,
            defaults={"timezone": "UTC", "weekly_hours": default_weekly_hours(), "holidays": []},
        )
        SlaPolicy.objects.bulk_create(
            SlaPolicy(
                installation=installation,
                name=f"{CasePriority(priority).label} (default)",
                priority=priority,
                reason="",
                first_response_minutes=first_response,
                resolution_minutes=resolution,
                warn_before_minutes=warn_before,
                calendar=calendar,
            )
            for priority, (first_response, resolution, warn_before) in DEFAULT_TARGETS.items()
        )


def sla_policy_for(*, installation: Installation, priority: str, reason: str) -> SlaPolicy | None:
    """The most specific policy: (priority, reason), then (priority, any reason); ``None`` if neither exists."""
    candidates = SlaPolicy.objects.filter(
        installation=installation, priority=priority, reason__in={reason or "", ""}
    ).select_related("calendar")
    best = None
    for policy in candidates:
        if best is None or (policy.reason and not best.reason):
            best = policy
    return best
