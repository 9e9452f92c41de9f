"""The SLA clocks of one case: start, recompute, pause, resume, first response, stop.

Every function mutates ``case`` and returns the names of the case fields it changed; the caller holds the
row lock (``locks.case_qs_select_for_update``) and saves with ``update_fields``. Events are written
through ``events.py``.

The one write a function does itself is the case's ``SlaCheck`` row (models/sla.py), the next instant the
scan must look (a warning or a due time): upserted, or deleted when nothing can happen (paused, stopped,
no policy). It is one statement in the caller's transaction, guarded by the same case lock; call these
functions inside ``transaction.atomic`` with the case locked (or not committed yet), after the case row
exists. A rollback takes the check back with the case.

Two targets run per case: first response (until the first staff reply) and resolution (until the case
is resolved or closed). Due times are stored in UTC. ``running_targets`` and ``next_check_at`` only read
attributes, so the scan passes its lighter ``DueCase`` rows (same attribute names) to them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from saleor_support_plugin import events
from saleor_support_plugin.models import Case, SlaCheck, SlaPolicy
from saleor_support_plugin.models.cases import ACTIVE_STATUSES
from saleor_support_plugin.services.sla.calendar import (
    CompiledCalendar,
    add_business_time,
    business_time_between,
    calendar_compile,
    subtract_business_time,
)
from saleor_support_plugin.services.sla.policies import sla_defaults_ensure, sla_policy_for

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
# target → (due field, breached flag)
TARGETS: dict[str, tuple[str, str]] = {
    FIRST_RESPONSE: ("first_response_due_at", "sla_first_response_breached"),
    RESOLUTION: ("resolution_due_at", "sla_resolution_breached"),
}


class _Changes:
    """Set fields on the case, remembering which ones actually changed."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.fields: list[str] = []

    def set(self, name: str, value: object) -> None:
        if name == "sla_policy":
            differs = self.case.sla_policy_id != (value.pk if value is not None else None)
        else:
            differs = getattr(self.case, name) != value
        if differs:
            setattr(self.case, name, value)
            if name not in self.fields:
                self.fields.append(name)


def running_targets(case: Case) -> Iterator[tuple[str, datetime]]:
    """(target, due) of the clocks still running and not yet breached."""
    if case.first_responded_at is None and not case.sla_first_response_breached and case.first_response_due_at:
        yield FIRST_RESPONSE, case.first_response_due_at
    if not case.sla_resolution_breached and case.resolution_due_at:
        yield RESOLUTION, case.resolution_due_at


def next_check_at(case: Case, policy: SlaPolicy | None, cal: CompiledCalendar | None) -> datetime | None:
    """When the scan must look next: the warning moment of a running target (until warned), else its due."""
    if policy is None or cal is None or case.sla_paused_at is not None or case.status not in ACTIVE_STATUSES:
        return None
    warn = timedelta(minutes=policy.warn_before_minutes)
    moments = [
        due if case.sla_warned or not warn else subtract_business_time(cal, due, warn)
        for _, due in running_targets(case)
    ]
    return min(moments, default=None)


def check_schedule(case: Case, at: datetime | None) -> None:
    """Set when the scan looks at ``case`` next: upsert its ``SlaCheck`` row, or delete it for ``None``.

    One statement. The caller holds the case row lock (which guards this row too) inside its transaction.
    """
    if at is None:
        SlaCheck.objects.filter(case_id=case.pk).delete()
        return
    row = SlaCheck(case_id=case.pk, installation_id=case.installation_id, next_check_at=at)
    SlaCheck.objects.bulk_create([row], update_conflicts=True, unique_fields=["case"], update_fields=["next_check_at"])


def _policy(case: Case) -> tuple[SlaPolicy | None, CompiledCalendar | None]:
    policy = case.sla_policy if case.sla_policy_id is not None else None
    return policy, (calendar_compile(policy.calendar) if policy is not None else None)


def _effective_due(case: Case, cal: CompiledCalendar, due: datetime, at: datetime) -> datetime:
    """A due time as it would stand if a running pause ended at ``at``."""
    if case.sla_paused_at is None:
        return due
    return add_business_time(cal, due, business_time_between(cal, case.sla_paused_at, at))


def _late(changes: _Changes, cal: CompiledCalendar, target: str, at: datetime) -> None:
    """Record a breach that happened before the scan saw it (a late reply or resolution)."""
    case = changes.case
    due_field, breached_field = TARGETS[target]
    due = getattr(case, due_field)
    if due is None or getattr(case, breached_field):
        return
    due = _effective_due(case, cal, due, at)
    if at > due:
        changes.set(breached_field, True)
        events.event_sla_breached(case=case, target=target, due_at=due.isoformat())


def _due_times(case: Case, policy: SlaPolicy, cal: CompiledCalendar, start: datetime, changes: _Changes) -> None:
    paused = timedelta(seconds=case.sla_paused_seconds)
    if case.first_responded_at is None:
        first_response = timedelta(minutes=policy.first_response_minutes) + paused
        changes.set("first_response_due_at", add_business_time(cal, start, first_response))
    resolution = timedelta(minutes=policy.resolution_minutes) + paused
    changes.set("resolution_due_at", add_business_time(cal, start, resolution))


def sla_case_start(*, case: Case, at: datetime) -> list[str]:
    """Assign the policy and set both due times from ``at`` (the default policies are created on first use).

    Writes the case's ``SlaCheck`` (first look); call with the case locked, inside the caller's transaction.
    """
    sla_defaults_ensure(installation=case.installation)
    policy = sla_policy_for(installation=case.installation, priority=case.priority, reason=case.reason)
    changes = _Changes(case)
    changes.set("sla_policy", policy)
    if policy is None:
        changes.set("first_response_due_at", None)
        changes.set("resolution_due_at", None)
        check_schedule(case, None)
        return changes.fields
    cal = calendar_compile(policy.calendar)
    _due_times(case, policy, cal, at, changes)
    check_schedule(case, next_check_at(case, policy, cal))
    return changes.fields


def sla_case_recompute(*, case: Case, at: datetime) -> list[str]:
    """Priority or reason changed: pick the policy again and recompute due times from ``case.created_at``.

    Business time already spent paused (``sla_paused_seconds``) is honoured; a pause still running is
    added on resume. Breach flags already raised stay. A first-response clock that already stopped keeps
    its due time. When a running due time moves, ``sla_warned`` is cleared so the new target can warn.
    Writes the case's ``SlaCheck``; call with the case locked, inside the caller's transaction.
    """
    policy = sla_policy_for(installation=case.installation, priority=case.priority, reason=case.reason)
    changes = _Changes(case)
    changes.set("sla_policy", policy)
    if policy is None:
        check_schedule(case, None)
        return changes.fields
    cal = calendar_compile(policy.calendar)
    before = dict(running_targets(case))
    _due_times(case, policy, cal, case.created_at or at, changes)
    if case.sla_warned and dict(running_targets(case)) != before:
        changes.set("sla_warned", False)
    check_schedule(case, next_check_at(case, policy, cal))
    return changes.fields


def sla_case_pause(*, case: Case, at: datetime) -> list[str]:
    """Waiting on the customer: both clocks stop until ``sla_case_resume``.

    Deletes the case's ``SlaCheck`` (nothing to look at while paused); call with the case locked, inside the
    caller's transaction.
    """
    if case.sla_paused_at is not None or case.sla_policy_id is None or case.status not in ACTIVE_STATUSES:
        return []
    changes = _Changes(case)
    changes.set("sla_paused_at", at)
    check_schedule(case, None)
    events.event_sla_paused(case=case)
    return changes.fields


def sla_case_resume(*, case: Case, at: datetime) -> list[str]:
    """The customer replied (or the status went back to open): running due times move later by the
    business time spent paused.

    Writes the case's ``SlaCheck`` again; call with the case locked, inside the caller's transaction.
    """
    if case.sla_paused_at is None:
        return []
    changes = _Changes(case)
    policy, cal = _policy(case)
    paused = business_time_between(cal, case.sla_paused_at, at) if cal is not None else timedelta(0)
    if cal is not None and paused:
        for target, due in list(running_targets(case)):
            changes.set(TARGETS[target][0], add_business_time(cal, due, paused))
    seconds = int(paused.total_seconds())
    changes.set("sla_paused_seconds", case.sla_paused_seconds + seconds)
    changes.set("sla_paused_at", None)
    check_schedule(case, next_check_at(case, policy, cal))
    events.event_sla_resumed(case=case, paused_business_minutes=seconds // 60)
    return changes.fields


def sla_case_first_response(*, case: Case, at: datetime) -> list[str]:
    """The first staff reply: the first-response clock stops (a late reply is recorded as a breach).

    Call it on every staff reply: only the first counts. Sets ``first_responded_at = at`` unless the
    caller already did. ``sla_warned`` (one flag per case) is cleared while the resolution clock runs,
    so the resolution target gets its own warning. Writes the case's ``SlaCheck`` (the resolution's next
    look); call with the case locked, inside the caller's transaction.
    """
    if case.first_responded_at is not None and case.first_responded_at != at:
        return []
    changes = _Changes(case)
    policy, cal = _policy(case)
    if cal is not None:
        _late(changes, cal, FIRST_RESPONSE, at)
    changes.set("first_responded_at", at)
    if case.sla_warned and not case.sla_resolution_breached:
        changes.set("sla_warned", False)
    check_schedule(case, next_check_at(case, policy, cal))
    return changes.fields


def sla_case_stop(*, case: Case, at: datetime) -> list[str]:
    """Resolved or closed: no more checks. A resolution after its due time is recorded as a breach.

    Deletes the case's ``SlaCheck``; call with the case locked, inside the caller's transaction.
    """
    changes = _Changes(case)
    policy, cal = _policy(case)
    if cal is not None:
        _late(changes, cal, RESOLUTION, at)
        if case.sla_paused_at is not None:
            paused = int(business_time_between(cal, case.sla_paused_at, at).total_seconds())
            changes.set("sla_paused_seconds", case.sla_paused_seconds + paused)
    changes.set("sla_paused_at", None)
    check_schedule(case, None)
    return changes.fields
