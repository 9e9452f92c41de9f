"""Which cases the SLA scan must look at now (services/sla/scan.py; bench/sla_scan.py explains the same query)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from saleor_support_plugin.models import Case

# What the scan reads of a due case (services/sla/scan.py ``DueCase`` takes them in this order).
SLA_DUE_FIELDS = (
    "pk",
    "installation_id",
    "status",
    "priority",
    "sla_policy_id",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "sla_paused_at",
    "sla_warned",
    "sla_first_response_breached",
    "sla_resolution_breached",
)


def sla_due_rows_qs(*, now: datetime, limit: int) -> QuerySet:
    """``SLA_DUE_FIELDS`` tuples of the cases whose ``sla_next_check_at`` has come, oldest first, locked.

    Reads only the partial index ``case_sla_next_check_idx`` (``sla_next_check_at IS NOT NULL``): the
    rows that need a look, however many cases exist. Rows another worker holds are skipped, not awaited
    (``SKIP LOCKED`` on PostgreSQL), so overlapping scans share the work. Evaluate inside
    ``transaction.atomic``.
    """
    return (
        Case.objects.filter(sla_next_check_at__isnull=False, sla_next_check_at__lte=now)
        .order_by("sla_next_check_at")
        .select_for_update(of=("self",), skip_locked=connection.features.has_select_for_update_skip_locked)
        .values_list(*SLA_DUE_FIELDS)[:limit]
    )
