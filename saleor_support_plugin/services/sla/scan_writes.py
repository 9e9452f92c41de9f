"""How the SLA scan writes one batch: its events, its changed case rows and its ``SlaCheck`` rows.

The scan touches up to ``batch`` rows at once; Django's bulk helpers are the slow part at that size
(``bulk_update`` builds one ``CASE WHEN id = …`` chain per column, evaluated for every row: quadratic;
``bulk_create`` costs a model instance per row), and one statement per row costs a parse and plan each.
On PostgreSQL a batch is therefore one ``INSERT … SELECT FROM jsonb_array_elements(%s)`` for the events,
one ``UPDATE … FROM jsonb_to_recordset(%s)`` for the case rows a check changed (flags, priority: no
indexed column, so HOT where the page has room), one such ``UPDATE`` moving the ``SlaCheck`` rows still
pending and one ``DELETE … = ANY(%s)`` for the others, each taking the whole batch as one parameter (one
``json.dumps``, one escape; arrays of strings would cost a regex per element with client-side binding).
Elsewhere (SQLite under ``make run``) one pipelined ``executemany`` per statement. Only quoted identifiers
from the models' ``_meta`` are interpolated; values are parameters.

The events are the rows ``events.py`` writes for the same types: SYSTEM actor, the same parameters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db import connection

from saleor_support_plugin.events import SYSTEM
from saleor_support_plugin.models import Case, CaseEvent, SlaCheck

# Databases that get the set-based statements (a JSON document per batch).
SET_BASED_VENDORS = frozenset({"postgresql"})


class CaseRow(Protocol):
    """What is written back of a scanned case (``scan.DueCase``): its fields when ``changed``, and its
    ``SlaCheck`` (moved to ``next_check_at``, or deleted for ``None``)."""

    pk: int
    priority: str
    sla_warned: bool
    sla_first_response_breached: bool
    sla_resolution_breached: bool
    next_check_at: datetime | None
    changed: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    installation_id: int
    case_id: int
    type: str
    parameters: dict


CASE_FIELDS = ("priority", "sla_warned", "sla_first_response_breached", "sla_resolution_breached")
CASE_TYPES = ("bigint", "text", "boolean", "boolean", "boolean")  # id, then CASE_FIELDS
EVENT_FIELDS = ("installation", "case", "type", "parameters")


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def relax_commit() -> None:
    """Let this transaction's COMMIT return before its WAL reaches disk (PostgreSQL, ``SET LOCAL``).

    Safe for a scan batch: a crash can only lose whole batches committed in the last few hundred
    milliseconds (rows and events together), which the next scan recomputes; the scan sends nothing
    outside the database. Saves a WAL flush per batch.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def write_batch(cases: Sequence[CaseRow], events: list[EventRow], stamp: datetime) -> None:
    """Insert the events, update the changed case rows (``updated_at = stamp``), move or delete the checks."""
    changed = [c for c in cases if c.changed]
    pending = [c for c in cases if c.next_check_at is not None]
    done = [c.pk for c in cases if c.next_check_at is None]
    if connection.vendor in SET_BASED_VENDORS:
        _insert_events_set_based(events, stamp)
        _update_cases_set_based(changed, stamp)
        _update_checks_set_based(pending)
        _delete_checks_set_based(done)
    else:
        _insert_events_rowwise(events, stamp)
        _update_cases_rowwise(changed, stamp)
        _update_checks_rowwise(pending)
        _delete_checks_rowwise(done)


def _actor_columns() -> str:
    return ", ".join(_column(CaseEvent, name) for name in ("actor_type", "actor_email", "actor_user_id", "created_at"))


def _insert_events_set_based(events: list[EventRow], stamp: datetime) -> None:
    if not events:
        return
    columns = ", ".join(_column(CaseEvent, name) for name in EVENT_FIELDS)
    sql = (
        f"INSERT INTO {_table(CaseEvent)} ({columns}, {_actor_columns()}) "  # noqa: S608
        "SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2, e->3, %s, %s, %s, %s "
        "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(e, position) ORDER BY t.position"
    )
    rows = json.dumps([[e.installation_id, e.case_id, e.type, e.parameters] for e in events])
    with connection.cursor() as cursor:
        cursor.execute(sql, [SYSTEM.type, SYSTEM.email, SYSTEM.user_id, stamp, rows])


def _update_cases_set_based(cases: Sequence[CaseRow], stamp: datetime) -> None:
    if not cases:
        return
    assignments = ", ".join(f"{_column(Case, name)} = v.{name}" for name in CASE_FIELDS)
    record = ", ".join(f"{name} {kind}" for name, kind in zip(("id", *CASE_FIELDS), CASE_TYPES, strict=True))
    sql = (
        f"UPDATE {_table(Case)} AS c SET {assignments}, {_column(Case, 'updated_at')} = %s "  # noqa: S608
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE c.{_column(Case, 'id')} = v.id"
    )
    rows = json.dumps(
        [
            {
                "id": c.pk,
                "priority": c.priority,
                "sla_warned": c.sla_warned,
                "sla_first_response_breached": c.sla_first_response_breached,
                "sla_resolution_breached": c.sla_resolution_breached,
            }
            for c in cases
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, rows])


def _update_checks_set_based(cases: Sequence[CaseRow]) -> None:
    if not cases:
        return
    key, at = _column(SlaCheck, "case"), _column(SlaCheck, "next_check_at")
    sql = (
        f"UPDATE {_table(SlaCheck)} AS s SET {at} = v.at "  # noqa: S608
        f"FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, at timestamptz) WHERE s.{key} = v.id"
    )
    rows = json.dumps([{"id": c.pk, "at": c.next_check_at.isoformat()} for c in cases])
    with connection.cursor() as cursor:
        cursor.execute(sql, [rows])


def _delete_checks_set_based(pks: list[int]) -> None:
    if not pks:
        return
    sql = f"DELETE FROM {_table(SlaCheck)} WHERE {_column(SlaCheck, 'case')} = ANY(%s::bigint[])"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [pks])


def _insert_events_rowwise(events: list[EventRow], stamp: datetime) -> None:
    if not events:
        return
    columns = ", ".join(_column(CaseEvent, name) for name in EVENT_FIELDS)
    sql = f"INSERT INTO {_table(CaseEvent)} ({columns}, {_actor_columns()}) VALUES ({', '.join(['%s'] * 8)})"  # noqa: S608
    parameters = CaseEvent._meta.get_field("parameters")
    created = CaseEvent._meta.get_field("created_at").get_db_prep_save(stamp, connection)
    rows = [
        [e.installation_id, e.case_id, e.type, parameters.get_db_prep_save(e.parameters, connection),
         SYSTEM.type, SYSTEM.email, SYSTEM.user_id, created]
        for e in events
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _update_cases_rowwise(cases: Sequence[CaseRow], stamp: datetime) -> None:
    if not cases:
        return
    assignments = ", ".join(f"{_column(Case, name)} = %s" for name in (*CASE_FIELDS, "updated_at"))
    sql = f"UPDATE {_table(Case)} SET {assignments} WHERE {_column(Case, 'id')} = %s"  # noqa: S608
    updated = Case._meta.get_field("updated_at").get_db_prep_save(stamp, connection)
    rows = [
        [c.priority, c.sla_warned, c.sla_first_response_breached, c.sla_resolution_breached, updated, c.pk]
        for c in cases
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _update_checks_rowwise(cases: Sequence[CaseRow]) -> None:
    if not cases:
        return
    key, at = _column(SlaCheck, "case"), _column(SlaCheck, "next_check_at")
    sql = f"UPDATE {_table(SlaCheck)} SET {at} = %s WHERE {key} = %s"  # noqa: S608
    field = SlaCheck._meta.get_field("next_check_at")
    rows = [[field.get_db_prep_save(c.next_check_at, connection), c.pk] for c in cases]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _delete_checks_rowwise(pks: list[int]) -> None:
    if not pks:
        return
    sql = f"DELETE FROM {_table(SlaCheck)} WHERE {_column(SlaCheck, 'case')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[pk] for pk in pks])
