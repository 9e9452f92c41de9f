"""The SLA scan (the beat task's body): warnings, breaches and escalations for the cases that are due.

Only cases whose ``SlaCheck.next_check_at`` has come are read (``sla_check_next_idx``, then the case by
its primary key), in batches, each batch in its own transaction with its case rows locked (``SKIP
LOCKED``: concurrent scans and case services never wait on each other). Per case, at most:
- one ``sla_breached`` event per target whose due time has passed (and its ``sla_*_breached`` flag);
- one ``sla_warning`` per case while no warning was raised yet (``sla_warned``) and a running target is
  within ``warn_before_minutes`` business minutes of its due time;
- one priority step up (low → normal → high → urgent) per scan that raised a new breach, written as
  ``priority_changed`` by SYSTEM with ``why="sla_breach"``. The due times stay those of the policy the
  case runs on: the escalation is a signal to people, not a new, tighter target that would breach at
  once and cascade to urgent.
Then the case's ``SlaCheck`` moves to the next moment that needs a look (always later than ``now``), or is
deleted when nothing can happen any more.

Speed (bench/sla_scan.py): rows are read as tuples, not model instances; policies and calendars once per
scan; each batch's events and row writes are set-based (``scan_writes.py``). A case row is written only
when one of its fields changed, and none of those fields is indexed (HOT updates where the page has room);
the moving next-check time is the narrow ``SlaCheck`` row. The events are exactly those ``events.py``
writes (type, SYSTEM actor, parameters); they are inserted in bulk because one
``CaseEvent.objects.create`` per event is far too slow for 10,000 due cases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.models import SlaPolicy
from saleor_support_plugin.models.cases import ACTIVE_STATUSES, PRIORITY_ORDER
from saleor_support_plugin.selectors.sla import sla_due_rows
from saleor_support_plugin.services.sla.calendar import CompiledCalendar, calendar_compile, subtract_business_time
from saleor_support_plugin.services.sla.clocks import TARGETS, next_check_at, running_targets
from saleor_support_plugin.services.sla.scan_writes import EventRow, relax_commit, write_batch

logger = logging.getLogger(__name__)

WHY_SLA_BREACH = "sla_breach"
_MIN_STEP = timedelta(seconds=1)
# A case whose calendar cannot be used (invalid, no hours) is looked at again after this.
RETRY_BROKEN = timedelta(hours=1)


@dataclass(slots=True)
class DueCase:
    """The columns of one due case the scan reads and writes (``SLA_DUE_FIELDS``, same names as ``Case``),
    and what the scan decided: ``next_check_at`` for its ``SlaCheck`` (``None``: delete it) and whether a
    case field ``changed`` (only then is the case row written)."""

    pk: int
    installation_id: int
    status: str
    priority: str
    sla_policy_id: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    sla_paused_at: datetime | None
    sla_warned: bool
    sla_first_response_breached: bool
    sla_resolution_breached: bool
    next_check_at: datetime | None = None  # not read: the scan always sets it
    changed: bool = False


def _escalated(priority: str) -> str | None:
    try:
        position = PRIORITY_ORDER.index(priority)
    except ValueError:
        return None
    return PRIORITY_ORDER[position + 1] if position + 1 < len(PRIORITY_ORDER) else None


def _target_event(case: DueCase, type_: str, target: str, due: datetime) -> EventRow:
    return EventRow(case.installation_id, case.pk, type_, {"target": target, "due_at": due.isoformat()})


def _check(
    case: DueCase, policy: SlaPolicy | None, cal: CompiledCalendar | None, now: datetime, out: list[EventRow]
) -> tuple[int, int, int]:
    """Look at one due case: mutate it, append its events; returns (warned, breached, escalated)."""
    if policy is None or cal is None or case.sla_paused_at is not None or case.status not in ACTIVE_STATUSES:
        case.next_check_at = None  # nothing can happen; a service schedules a check again when it can
        return 0, 0, 0
    breached = 0
    for target, due in list(running_targets(case)):
        if now >= due:
            setattr(case, TARGETS[target][1], True)
            out.append(_target_event(case, "sla_breached", target, due))
            breached += 1
    warned = 0
    if not case.sla_warned and policy.warn_before_minutes:
        warn = timedelta(minutes=policy.warn_before_minutes)
        for target, due in running_targets(case):
            if now >= subtract_business_time(cal, due, warn):
                case.sla_warned = True
                out.append(_target_event(case, "sla_warning", target, due))
                warned = 1
                break
    escalated = 0
    if breached and (higher := _escalated(case.priority)) is not None:
        previous, case.priority = case.priority, higher
        parameters = {"priority": higher, "previous": previous, "why": WHY_SLA_BREACH}
        out.append(EventRow(case.installation_id, case.pk, "priority_changed", parameters))
        escalated = 1
    following = next_check_at(case, policy, cal)
    # Never leave a row due again within this scan (it would be selected forever).
    case.next_check_at = max(following, now + _MIN_STEP) if following is not None else None
    case.changed = bool(warned or breached)  # the only ways a case field (flags, priority) changes
    return warned, breached, escalated


class _Policies:
    """Policies and compiled calendars, loaded once per scan (a handful per installation)."""

    def __init__(self) -> None:
        self._policies: dict[int, SlaPolicy | None] = {}
        self._calendars: dict[int, CompiledCalendar | PermanentError] = {}

    def load(self, ids: set[int]) -> None:
        missing = ids - self._policies.keys()
        if not missing:
            return
        found = {p.pk: p for p in SlaPolicy.objects.filter(pk__in=missing).select_related("calendar")}
        for pk in missing:
            policy = self._policies[pk] = found.get(pk)
            if policy is not None and policy.calendar_id not in self._calendars:
                try:
                    self._calendars[policy.calendar_id] = calendar_compile(policy.calendar)
                except PermanentError as exc:
                    self._calendars[policy.calendar_id] = exc

    def get(self, pk: int | None) -> tuple[SlaPolicy | None, CompiledCalendar | None]:
        policy = self._policies.get(pk) if pk is not None else None
        if policy is None:
            return None, None
        cal = self._calendars[policy.calendar_id]
        if isinstance(cal, PermanentError):
            raise cal
        return policy, cal


def sla_scan(*, now: datetime | None = None, batch: int = 1000) -> dict[str, int]:
    """Check every case whose ``SlaCheck.next_check_at <= now`` (all installations; events stay per case)."""
    now = now or timezone.now()
    counts = {"checked": 0, "warned": 0, "breached": 0, "escalated": 0}
    policies = _Policies()
    while True:
        with transaction.atomic():
            cases = [DueCase(*row) for row in sla_due_rows(now=now, limit=batch)]
            if not cases:
                break
            policies.load({case.sla_policy_id for case in cases if case.sla_policy_id is not None})
            events: list[EventRow] = []
            for case in cases:
                try:
                    policy, cal = policies.get(case.sla_policy_id)
                    warned, breached, escalated = _check(case, policy, cal, now, events)
                except PermanentError as exc:
                    # A broken calendar must not stall the scan: skip this case for a while, loudly.
                    logger.error("sla scan: case %s skipped: %s", case.pk, exc)
                    case.next_check_at, (warned, breached, escalated) = now + RETRY_BROKEN, (0, 0, 0)
                counts["warned"] += warned
                counts["breached"] += breached
                counts["escalated"] += escalated
            relax_commit()
            write_batch(cases, events, timezone.now())
            counts["checked"] += len(cases)
        if len(cases) < batch:
            break
    if counts["checked"]:
        logger.info("sla scan: %s", counts)
    return counts
