"""Which cases the SLA scan must look at now (services/sla/scan.py; bench/sla_scan.py explains the same query)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from saleor_support_plugin.models import Case, SlaCheck

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


def sla_due_rows(*, now: datetime, limit: int) -> list[tuple]:
    """``SLA_DUE_FIELDS`` tuples of up to ``limit`` cases whose ``SlaCheck.next_check_at`` has come, oldest
    first, their case rows locked. Evaluate inside ``transaction.atomic``.

    Only the rows that need a look are read, however many cases exist: ``support_sla_check`` holds pending
    checks only, walked in ``sla_check_next_idx`` order, and each case is fetched by its primary key. The
    case row lock is the one that also guards its ``SlaCheck`` (services/sla/clocks.py). Rows another
    worker holds are skipped, not awaited (``SKIP LOCKED``), and the batch fills up past them, so
    overlapping scans share the work. On PostgreSQL ``sla_due_rows_sql``; elsewhere (SQLite under
    ``make run``: no row locks) the same join through the ORM.
    """
    if connection.vendor == "postgresql":
        sql, params = sla_due_rows_sql(now=now, limit=limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return list(_due_rows_qs(now=now, limit=limit))


def sla_due_rows_sql(*, now: datetime, limit: int) -> tuple[str, list]:
    """The PostgreSQL statement of ``sla_due_rows`` and its parameters.

    A plain join (``FOR UPDATE OF`` the case) leaves the join method to the planner, which on a small
    case table prefers hashing the due checks against a sequential scan of every case. Here the case is a
    ``LATERAL`` subquery with its own ``FOR UPDATE SKIP LOCKED``: a subquery with row locks is never
    flattened, and a lateral reference can only be a nested loop, so the plan is always
    ``Limit → Nested Loop → (Index Scan on sla_check_next_idx, LockRows → Index Scan on support_case_pkey)``
    at any table size, and the ``LIMIT`` counts the cases actually locked. Only identifiers from the models'
    ``_meta`` are interpolated; values are parameters.
    """
    qn = connection.ops.quote_name
    case_table, check_table = qn(Case._meta.db_table), qn(SlaCheck._meta.db_table)
    case_columns = [
        Case._meta.pk.column if name == "pk" else Case._meta.get_field(name).column for name in SLA_DUE_FIELDS
    ]
    inner = ", ".join(f"{case_table}.{qn(column)}" for column in case_columns)
    outer = ", ".join(f"c.{qn(column)}" for column in case_columns)
    check_case, check_at = (
        qn(SlaCheck._meta.get_field("case").column),
        qn(SlaCheck._meta.get_field("next_check_at").column),
    )
    skip_locked = " SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = (
        f"SELECT {outer} FROM {check_table} AS s CROSS JOIN LATERAL ("  # noqa: S608
        f"SELECT {inner} FROM {case_table} WHERE {case_table}.{qn(Case._meta.pk.column)} = s.{check_case} "
        f"FOR UPDATE{skip_locked}) AS c "
        f"WHERE s.{check_at} <= %s ORDER BY s.{check_at} LIMIT %s"
    )
    return sql, [now, limit]


def _due_rows_qs(*, now: datetime, limit: int) -> QuerySet:
    return (
        Case.objects.filter(sla_check__next_check_at__lte=now)
        .order_by("sla_check__next_check_at")
        .select_for_update(of=("self",), skip_locked=connection.features.has_select_for_update_skip_locked)
        .values_list(*SLA_DUE_FIELDS)[:limit]
    )
