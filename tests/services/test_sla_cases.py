"""SLA clocks on real case rows: start, pause/resume, first response, recompute, and the scan.

The installations use the default calendar (UTC, Mon–Fri 09:00–17:00) and policies; all instants are in
the week of Monday 2026-11-16.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from saleor_support_plugin.models import (
    BusinessCalendar,
    Case,
    CaseEvent,
    CasePriority,
    CaseReason,
    CaseStatus,
    SlaCheck,
    SlaPolicy,
)
from saleor_support_plugin.services.sla import (
    scan_writes,
    sla_case_first_response,
    sla_case_pause,
    sla_case_recompute,
    sla_case_resume,
    sla_case_start,
    sla_case_stop,
    sla_defaults_ensure,
    sla_policy_for,
    sla_scan,
)
from saleor_support_plugin.tasks import sla_scan_task
from tests.conftest import make_installation

_numbers = count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONDAY_10 = utc(2026, 11, 16, 10, 0)


def make_case(installation, *, priority: str = CasePriority.NORMAL, **fields) -> Case:
    return Case.objects.create(
        installation=installation,
        number=next(_numbers),
        subject="Where is my parcel?",
        reply_token=uuid.uuid4().hex,
        priority=priority,
        **fields,
    )


def started(installation, at: datetime = MONDAY_10, **fields) -> Case:
    case = make_case(installation, **fields)
    Case.objects.filter(pk=case.pk).update(created_at=at)
    case.refresh_from_db()
    case.save(update_fields=sla_case_start(case=case, at=at))
    return case


def apply(case: Case, fields: list[str]) -> Case:
    case.save(update_fields=fields)
    case.refresh_from_db()
    return case


def next_check(case: Case) -> datetime | None:
    """When the scan looks at ``case`` next (its ``SlaCheck`` row); ``None`` when no check is pending."""
    return SlaCheck.objects.filter(case=case).values_list("next_check_at", flat=True).first()


def events(case: Case, type_: str | None = None) -> list[CaseEvent]:
    rows = CaseEvent.objects.filter(case=case).order_by("pk")
    return list(rows.filter(type=type_) if type_ else rows)


@pytest.fixture
def other_installation(db):
    return make_installation(api_url="https://other.example.com/graphql/", app_id="QXBwOjg=")


# -- defaults and policy choice -----------------------------------------------------------------------


def test_defaults_are_created_once(test_installation):
    # given an installation without any SLA setup
    # when the defaults are ensured twice
    sla_defaults_ensure(installation=test_installation)
    sla_defaults_ensure(installation=test_installation)

    # then one calendar and one policy per priority exist, with the documented targets
    calendar = BusinessCalendar.objects.get(installation=test_installation)
    assert (calendar.name, calendar.timezone, calendar.holidays) == ("Default", "UTC", [])
    assert calendar.weekly_hours == {str(day): [["09:00", "17:00"]] for day in range(5)}
    targets = {
        p.priority: (p.first_response_minutes, p.resolution_minutes, p.warn_before_minutes, p.reason)
        for p in SlaPolicy.objects.filter(installation=test_installation)
    }
    assert targets == {
        "urgent": (60, 480, 15, ""),
        "high": (240, 1440, 60, ""),
        "normal": (480, 2880, 60, ""),
        "low": (1440, 5760, 60, ""),
    }


def test_defaults_leave_a_configured_installation_alone(test_installation):
    # given an installation with its own single policy
    calendar = BusinessCalendar.objects.create(installation=test_installation, name="Shop", timezone="Europe/Oslo")
    SlaPolicy.objects.create(
        installation=test_installation,
        name="Only urgent",
        priority="urgent",
        first_response_minutes=30,
        resolution_minutes=240,
        calendar=calendar,
    )

    # when the defaults are ensured
    sla_defaults_ensure(installation=test_installation)

    # then nothing was added
    assert SlaPolicy.objects.filter(installation=test_installation).count() == 1
    assert BusinessCalendar.objects.filter(installation=test_installation).count() == 1


def test_most_specific_policy_wins(test_installation):
    # given the defaults plus a policy for normal payment issues
    sla_defaults_ensure(installation=test_installation)
    calendar = BusinessCalendar.objects.get(installation=test_installation)
    specific = SlaPolicy.objects.create(
        installation=test_installation,
        name="Payments",
        priority="normal",
        reason=CaseReason.PAYMENT_ISSUE,
        first_response_minutes=30,
        resolution_minutes=240,
        calendar=calendar,
    )

    # when policies are looked up
    payment = sla_policy_for(installation=test_installation, priority="normal", reason=CaseReason.PAYMENT_ISSUE)
    other = sla_policy_for(installation=test_installation, priority="normal", reason=CaseReason.ORDER_STATUS)
    none = sla_policy_for(installation=test_installation, priority="nonsense", reason="")

    # then (priority, reason) beats (priority, "")
    assert payment == specific
    assert (other.priority, other.reason) == ("normal", "")
    assert none is None


# -- start, pause/resume, first response, recompute, stop ---------------------------------------------


def test_start_sets_due_times_and_first_check(test_installation):
    # given a new normal case on Monday 10:00
    case = make_case(test_installation)

    # when its clocks start
    fields = sla_case_start(case=case, at=MONDAY_10)
    case = apply(case, fields)

    # then first response is due after 8 business hours, resolution after 48, and the scan first looks
    # an hour before the first response is due
    assert set(fields) == {"sla_policy", "first_response_due_at", "resolution_due_at"}
    assert case.sla_policy.priority == "normal"
    assert case.first_response_due_at == utc(2026, 11, 17, 10, 0)
    assert case.resolution_due_at == utc(2026, 11, 24, 10, 0)
    assert next_check(case) == utc(2026, 11, 17, 9, 0)


def test_warning_is_due_in_business_time_before_a_monday_morning_target(test_installation):
    # given a normal case opened Friday 09:30: first response due Monday 09:30
    case = started(test_installation, at=utc(2026, 11, 20, 9, 30))
    first_look = next_check(case)

    # when the scan runs on Friday 16:29 and 16:31
    early = sla_scan(now=utc(2026, 11, 20, 16, 29))
    counts = sla_scan(now=utc(2026, 11, 20, 16, 31))

    # then the first look is Friday 16:30 (an hour of business time before), not Monday 08:30
    assert case.first_response_due_at == utc(2026, 11, 23, 9, 30)
    assert first_look == utc(2026, 11, 20, 16, 30)
    assert early["checked"] == 0
    assert counts["warned"] == 1
    assert next_check(case) == utc(2026, 11, 23, 9, 30)


def test_pause_over_the_weekend_moves_due_by_business_time_only(test_installation):
    # given a normal case started Friday 12:00: first response due Monday 12:00
    friday_noon = utc(2026, 11, 20, 12, 0)
    case = started(test_installation, at=friday_noon)
    assert case.first_response_due_at == utc(2026, 11, 23, 12, 0)

    # when it waits on the customer from Friday 16:00 to Monday 10:00 (66 wall hours, 2 business hours)
    case.status = CaseStatus.PENDING_CUSTOMER
    case = apply(case, sla_case_pause(case=case, at=utc(2026, 11, 20, 16, 0)) + ["status"])
    assert next_check(case) is None
    case.status = CaseStatus.OPEN
    case = apply(case, sla_case_resume(case=case, at=utc(2026, 11, 23, 10, 0)) + ["status"])

    # then both due times moved by two business hours, not by 66 hours
    assert case.first_response_due_at == utc(2026, 11, 23, 14, 0)
    assert case.resolution_due_at == utc(2026, 11, 30, 14, 0)
    assert case.sla_paused_at is None
    assert case.sla_paused_seconds == 2 * 3600
    assert next_check(case) == utc(2026, 11, 23, 13, 0)
    assert [(e.type, e.parameters) for e in events(case)] == [
        ("sla_paused", {}),
        ("sla_resumed", {"paused_business_minutes": 120}),
    ]


def test_paused_case_is_skipped_by_the_scan_even_after_its_due_time(test_installation):
    # given a case paused before its first response was due
    case = started(test_installation)
    case = apply(case, sla_case_pause(case=case, at=utc(2026, 11, 16, 11, 0)))

    # when the scan runs long after the original due time
    counts = sla_scan(now=utc(2026, 11, 19, 12, 0))

    # then nothing happens to it
    case.refresh_from_db()
    assert counts["checked"] == 0
    assert not case.sla_first_response_breached
    assert events(case, "sla_breached") == []


def test_first_response_stops_that_clock(test_installation):
    # given a normal case whose first response is due Tuesday 10:00
    case = started(test_installation)

    # when staff reply on Monday 15:00
    fields = sla_case_first_response(case=case, at=utc(2026, 11, 16, 15, 0))
    case = apply(case, fields)

    # then only the resolution clock runs: the next look is its warning, and the scan never breaches
    # the first response
    assert case.first_responded_at == utc(2026, 11, 16, 15, 0)
    assert next_check(case) == utc(2026, 11, 24, 9, 0)
    assert sla_scan(now=utc(2026, 11, 17, 12, 0))["checked"] == 0
    case.refresh_from_db()
    assert not case.sla_first_response_breached


def test_only_the_first_reply_counts(test_installation):
    # given a case that was answered
    case = started(test_installation)
    case = apply(case, sla_case_first_response(case=case, at=utc(2026, 11, 16, 11, 0)))

    # when another reply follows
    fields = sla_case_first_response(case=case, at=utc(2026, 11, 16, 12, 0))

    # then nothing changes
    assert fields == []


def test_late_first_response_is_recorded_as_a_breach(test_installation):
    # given a case nobody scanned, whose first response was due Tuesday 10:00
    case = started(test_installation)

    # when staff first reply on Tuesday 11:00
    case = apply(case, sla_case_first_response(case=case, at=utc(2026, 11, 17, 11, 0)))

    # then the breach is recorded (once) without escalating a case that has now been answered
    assert case.sla_first_response_breached
    assert [e.parameters["target"] for e in events(case, "sla_breached")] == ["first_response"]
    assert case.priority == CasePriority.NORMAL


def test_recompute_after_priority_change_honours_time_paused(test_installation):
    # given the Friday case paused for 2 business hours (first response then due Monday 14:00)
    case = started(test_installation, at=utc(2026, 11, 20, 12, 0))
    case = apply(case, sla_case_pause(case=case, at=utc(2026, 11, 20, 16, 0)))
    case = apply(case, sla_case_resume(case=case, at=utc(2026, 11, 23, 10, 0)))

    # when the priority becomes high (4 h / 24 h) on Monday 10:30
    case.priority = CasePriority.HIGH
    fields = sla_case_recompute(case=case, at=utc(2026, 11, 23, 10, 30))
    case = apply(case, fields + ["priority"])

    # then due times count from creation with the 2 paused hours added
    assert case.sla_policy.priority == "high"
    assert case.first_response_due_at == utc(2026, 11, 23, 10, 0)  # Fri 12–17 (5 h) + Mon 09–10 (1 h)
    assert case.resolution_due_at == utc(2026, 11, 25, 14, 0)  # 24 h + 2 h: Fri 5 h, Mon 8, Tue 8, Wed 5
    assert next_check(case) == utc(2026, 11, 23, 9, 0)  # already inside the warning: look now


def test_recompute_keeps_breach_flags(test_installation):
    # given a case whose first response was breached and escalated by the scan
    case = started(test_installation)
    sla_scan(now=utc(2026, 11, 17, 10, 30))
    case.refresh_from_db()
    assert case.sla_first_response_breached and case.priority == CasePriority.HIGH

    # when staff set it back to low (much longer targets)
    case.priority = CasePriority.LOW
    case = apply(case, sla_case_recompute(case=case, at=utc(2026, 11, 17, 11, 0)) + ["priority"])

    # then the breach stays on record
    assert case.sla_first_response_breached
    assert case.sla_policy.priority == "low"
    assert case.first_response_due_at == utc(2026, 11, 19, 10, 0)


def test_stop_ends_checks_and_records_a_late_resolution(test_installation):
    # given one case resolved in time and one resolved after its resolution due time
    on_time = started(test_installation)
    late = started(test_installation)
    late = apply(late, sla_case_first_response(case=late, at=utc(2026, 11, 16, 11, 0)))

    # when both are resolved
    on_time.status = late.status = CaseStatus.RESOLVED
    on_time = apply(on_time, sla_case_stop(case=on_time, at=utc(2026, 11, 16, 12, 0)) + ["status"])
    late = apply(late, sla_case_stop(case=late, at=utc(2026, 11, 25, 12, 0)) + ["status"])

    # then neither is checked again; the late one carries its resolution breach
    assert next_check(on_time) is None and next_check(late) is None
    assert not on_time.sla_resolution_breached
    assert late.sla_resolution_breached
    assert [e.parameters["target"] for e in events(late, "sla_breached")] == ["resolution"]


# -- the scan -------------------------------------------------------------------------------------------


def test_scan_warns_once(test_installation):
    # given a normal case whose first response is due Tuesday 10:00 (warning from 09:00)
    case = started(test_installation)

    # when the scan runs at 09:05, again at once, and again at 09:30
    first = sla_scan(now=utc(2026, 11, 17, 9, 5))
    second = sla_scan(now=utc(2026, 11, 17, 9, 5))
    third = sla_scan(now=utc(2026, 11, 17, 9, 30))

    # then one warning is written and the next look is the due time itself
    case.refresh_from_db()
    assert first == {"checked": 1, "warned": 1, "breached": 0, "escalated": 0}
    assert second == third == {"checked": 0, "warned": 0, "breached": 0, "escalated": 0}
    assert [(e.type, e.parameters, e.actor_type) for e in events(case)] == [
        ("sla_warning", {"target": "first_response", "due_at": "2026-11-17T10:00:00+00:00"}, "system")
    ]
    assert case.sla_warned
    assert next_check(case) == utc(2026, 11, 17, 10, 0)


def test_scan_breaches_once_and_escalates_one_step(test_installation):
    # given a warned normal case
    case = started(test_installation)
    sla_scan(now=utc(2026, 11, 17, 9, 5))

    # when the scan runs after the first response was due, and again right after
    counts = sla_scan(now=utc(2026, 11, 17, 10, 30))
    again = sla_scan(now=utc(2026, 11, 17, 10, 30))

    # then one breach, one priority step (normal → high) by the system, and the next look is the
    # resolution due time (the case already had its warning)
    case.refresh_from_db()
    assert counts == {"checked": 1, "warned": 0, "breached": 1, "escalated": 1}
    assert again["checked"] == 0
    assert case.sla_first_response_breached and not case.sla_resolution_breached
    assert case.priority == CasePriority.HIGH
    assert [(e.type, e.parameters) for e in events(case)][1:] == [
        ("sla_breached", {"target": "first_response", "due_at": "2026-11-17T10:00:00+00:00"}),
        ("priority_changed", {"priority": "high", "previous": "normal", "why": "sla_breach"}),
    ]
    assert next_check(case) == utc(2026, 11, 24, 10, 0)


def test_scan_that_jumps_straight_to_breach_still_warns_for_the_resolution_later(test_installation):
    # given a case the scan never saw before its first response was due
    case = started(test_installation)

    # when the scan runs late, then again when the resolution nears
    sla_scan(now=utc(2026, 11, 17, 10, 30))
    case.refresh_from_db()
    next_look = next_check(case)
    counts = sla_scan(now=utc(2026, 11, 24, 9, 10))

    # then the breach came without a warning, and the resolution got its warning on time
    assert next_look == utc(2026, 11, 24, 9, 0)
    assert counts == {"checked": 1, "warned": 1, "breached": 0, "escalated": 0}
    assert [e.type for e in events(case)] == ["sla_breached", "priority_changed", "sla_warning"]


def test_both_targets_breached_in_one_scan_escalate_one_step(test_installation):
    # given a case nobody looked at for two weeks
    case = started(test_installation)

    # when the scan finally runs
    counts = sla_scan(now=utc(2026, 11, 30, 12, 0))

    # then both breaches are written, the priority moves one step, and nothing is left to check
    case.refresh_from_db()
    assert counts == {"checked": 1, "warned": 0, "breached": 2, "escalated": 1}
    assert sorted(e.parameters["target"] for e in events(case, "sla_breached")) == ["first_response", "resolution"]
    assert case.priority == CasePriority.HIGH
    assert next_check(case) is None


def test_urgent_case_is_not_escalated_further(test_installation):
    # given an urgent case (first response 60 min)
    case = started(test_installation, priority=CasePriority.URGENT)

    # when its first response is breached
    counts = sla_scan(now=utc(2026, 11, 16, 11, 30))

    # then it is breached but stays urgent
    case.refresh_from_db()
    assert counts["breached"] == 1 and counts["escalated"] == 0
    assert case.priority == CasePriority.URGENT
    assert events(case, "priority_changed") == []


def test_scan_touches_only_due_rows(test_installation):
    # given one due case, one not due yet, one paused and one resolved
    due = started(test_installation)
    later = started(test_installation, at=utc(2026, 11, 17, 10, 0))
    paused = started(test_installation)
    paused = apply(paused, sla_case_pause(case=paused, at=utc(2026, 11, 16, 11, 0)))
    resolved = started(test_installation)
    resolved.status = CaseStatus.RESOLVED
    resolved = apply(resolved, sla_case_stop(case=resolved, at=utc(2026, 11, 16, 11, 0)) + ["status"])
    before = {c.pk: Case.objects.get(pk=c.pk).updated_at for c in (later, paused, resolved)}
    events_before = {c.pk: len(events(c)) for c in (later, paused, resolved)}

    # when the scan runs Tuesday 09:30
    counts = sla_scan(now=utc(2026, 11, 17, 9, 30))

    # then only the due case was read and written
    assert counts["checked"] == 1
    due.refresh_from_db()
    assert due.sla_warned
    assert {c.pk: Case.objects.get(pk=c.pk).updated_at for c in (later, paused, resolved)} == before
    assert {c.pk: len(events(c)) for c in (later, paused, resolved)} == events_before


def test_scan_covers_every_installation_without_mixing_events(test_installation, other_installation):
    # given breached cases in two installations
    ours = [started(test_installation) for _ in range(3)]
    theirs = [started(other_installation) for _ in range(2)]

    # when one scan runs, in batches smaller than the work
    counts = sla_scan(now=utc(2026, 11, 17, 10, 30), batch=2)

    # then every case was handled, and each event belongs to its own case's installation
    assert counts == {"checked": 5, "warned": 0, "breached": 5, "escalated": 5}
    for case in ours + theirs:
        rows = events(case)
        assert [e.type for e in rows] == ["sla_breached", "priority_changed"]
        assert {e.installation_id for e in rows} == {case.installation_id}
    assert CaseEvent.objects.filter(installation=test_installation).count() == 6
    assert CaseEvent.objects.filter(installation=other_installation).count() == 4
    # and each case runs on its own installation's policy
    assert {c.sla_policy.installation_id for c in ours} == {test_installation.pk}
    assert {c.sla_policy.installation_id for c in theirs} == {other_installation.pk}


def test_second_scan_right_after_does_nothing(test_installation):
    # given two due cases (normal and urgent, breached by Tuesday noon) and one not due (low)
    started(test_installation)
    started(test_installation, priority=CasePriority.URGENT)
    started(test_installation, priority=CasePriority.LOW)
    now = utc(2026, 11, 17, 12, 0)
    first = sla_scan(now=now)
    written = CaseEvent.objects.count()
    rows = list(Case.objects.order_by("pk").values())

    # when the scan runs again immediately
    second = sla_scan(now=now)

    # then nothing was checked or written
    assert first == {"checked": 2, "warned": 0, "breached": 3, "escalated": 1}  # urgent breaches both
    assert second == {"checked": 0, "warned": 0, "breached": 0, "escalated": 0}
    assert CaseEvent.objects.count() == written
    assert list(Case.objects.order_by("pk").values()) == rows


def test_case_without_policy_leaves_the_scan_queue(test_installation):
    # given a due case whose policy was deleted meanwhile
    case = started(test_installation)
    Case.objects.filter(pk=case.pk).update(sla_policy=None)
    case.refresh_from_db()

    # when the scan runs
    counts = sla_scan(now=utc(2026, 11, 17, 12, 0))

    # then it is read once, its case row is not written, and its pending check is gone
    assert counts == {"checked": 1, "warned": 0, "breached": 0, "escalated": 0}
    assert Case.objects.get(pk=case.pk).updated_at == case.updated_at
    assert next_check(case) is None
    assert events(case) == []


def test_broken_calendar_does_not_stall_the_scan(test_installation):
    # given two due cases, the first on a calendar edited into nonsense
    broken = started(test_installation, priority=CasePriority.URGENT)
    healthy = started(test_installation)
    calendar = BusinessCalendar.objects.create(installation=test_installation, name="Broken", timezone="Nowhere/Land")
    SlaPolicy.objects.filter(pk=broken.sla_policy_id).update(calendar=calendar)
    now = utc(2026, 11, 17, 12, 0)

    # when the scan runs
    counts = sla_scan(now=now)

    # then the healthy case is handled and the broken one is retried later
    broken.refresh_from_db()
    healthy.refresh_from_db()
    assert counts["checked"] == 2 and counts["breached"] == 1
    assert healthy.sla_first_response_breached
    assert next_check(broken) == now + timedelta(hours=1)
    assert events(broken) == []


def test_beat_task_runs_the_scan(test_installation):
    # given a case whose first response was due long ago (real clock)
    case = started(test_installation, at=utc(2026, 1, 5, 10, 0))

    # when the beat task runs
    counts = sla_scan_task.run()

    # then the case was scanned
    case.refresh_from_db()
    assert counts["checked"] == 1 and counts["breached"] == 2
    assert next_check(case) is None


def test_row_by_row_writer_gives_the_same_result(test_installation, monkeypatch):
    # given the writer used on databases without arrays (SQLite under `make run`)
    monkeypatch.setattr(scan_writes, "SET_BASED_VENDORS", frozenset())
    warned = started(test_installation)
    breached = started(test_installation, at=utc(2026, 11, 13, 10, 0))

    # when the scan runs
    counts = sla_scan(now=utc(2026, 11, 17, 9, 30))

    # then rows and events are as with the set-based writer
    warned.refresh_from_db()
    breached.refresh_from_db()
    assert counts == {"checked": 2, "warned": 1, "breached": 1, "escalated": 1}
    assert warned.sla_warned and next_check(warned) == utc(2026, 11, 17, 10, 0)
    assert breached.sla_first_response_breached and breached.priority == CasePriority.HIGH
    assert next_check(breached) == utc(2026, 11, 23, 9, 0)  # the resolution's warning
    assert [(e.type, e.parameters, e.actor_type) for e in events(breached)] == [
        ("sla_breached", {"target": "first_response", "due_at": "2026-11-16T10:00:00+00:00"}, "system"),
        ("priority_changed", {"priority": "high", "previous": "normal", "why": "sla_breach"}, "system"),
    ]


# -- the pending check row (support_sla_check) -------------------------------------------------------------


def test_pause_removes_the_pending_check_and_resume_brings_it_back(test_installation):
    # given a running case: a check is pending
    case = started(test_installation)
    assert next_check(case) == utc(2026, 11, 17, 9, 0)

    # when it waits on the customer, then the customer answers
    case.status = CaseStatus.PENDING_CUSTOMER
    case = apply(case, sla_case_pause(case=case, at=utc(2026, 11, 16, 11, 0)) + ["status"])
    paused_rows = SlaCheck.objects.filter(case=case).count()
    case.status = CaseStatus.OPEN
    case = apply(case, sla_case_resume(case=case, at=utc(2026, 11, 16, 13, 0)) + ["status"])

    # then no row exists while paused, and one (with the due time moved by 2 business hours) after
    assert paused_rows == 0
    assert case.first_response_due_at == utc(2026, 11, 17, 12, 0)
    assert list(SlaCheck.objects.filter(case=case).values_list("installation_id", "next_check_at")) == [
        (test_installation.pk, utc(2026, 11, 17, 11, 0))
    ]


def test_stop_removes_the_pending_check(test_installation):
    # given a running case, and a case without a policy (nothing pending)
    case = started(test_installation)
    nothing = started(test_installation, priority="nonsense")
    assert nothing.sla_policy_id is None and next_check(nothing) is None

    # when the case is resolved
    case.status = CaseStatus.RESOLVED
    apply(case, sla_case_stop(case=case, at=utc(2026, 11, 16, 12, 0)) + ["status"])

    # then its row is deleted, and no row was ever made for the case without a policy
    assert SlaCheck.objects.filter(case__in=[case, nothing]).count() == 0


def test_clock_writes_its_check_in_one_statement(test_installation):
    # given a running case
    case = started(test_installation)

    # when it is paused and resumed
    with CaptureQueriesContext(connection) as paused:
        case.status = CaseStatus.PENDING_CUSTOMER
        case = apply(case, sla_case_pause(case=case, at=utc(2026, 11, 16, 11, 0)) + ["status"])
    with CaptureQueriesContext(connection) as resumed:
        case.status = CaseStatus.OPEN
        case = apply(case, sla_case_resume(case=case, at=utc(2026, 11, 16, 13, 0)) + ["status"])

    # then each wrote the check row with one statement (a DELETE, an upsert), and no SELECT of it
    def on_checks(captured):
        return [q["sql"].split()[0] for q in captured.captured_queries if "support_sla_check" in q["sql"]]

    assert on_checks(paused) == ["DELETE"]
    assert on_checks(resumed) == ["INSERT"]


def test_check_is_written_in_the_callers_transaction(test_installation):
    # given a running case
    case = started(test_installation)

    # when a pause is rolled back with the rest of the caller's transaction
    with pytest.raises(RuntimeError), transaction.atomic():
        case.status = CaseStatus.PENDING_CUSTOMER
        apply(case, sla_case_pause(case=case, at=utc(2026, 11, 16, 11, 0)) + ["status"])
        raise RuntimeError("the service failed after pausing")

    # then the pending check is still there, unchanged
    assert next_check(case) == utc(2026, 11, 17, 9, 0)


@pytest.mark.parametrize("set_based", [True, False], ids=["set-based", "row-by-row"])
def test_scan_leaves_a_check_row_exactly_for_the_cases_still_pending(test_installation, monkeypatch, set_based):
    # given cases in every state, scanned on Tuesday 09:30
    if not set_based:
        monkeypatch.setattr(scan_writes, "SET_BASED_VENDORS", frozenset())
    now = utc(2026, 11, 17, 9, 30)
    warned = started(test_installation)  # first response due Tuesday 10:00: warned
    breached_once = started(test_installation, at=utc(2026, 11, 13, 10, 0))  # first response breached
    breached_both = started(test_installation, at=utc(2026, 11, 2, 10, 0))  # both targets breached
    later = started(test_installation, at=utc(2026, 11, 17, 9, 0))  # not due yet
    no_policy = started(test_installation)
    Case.objects.filter(pk=no_policy.pk).update(sla_policy=None)  # policy gone: its row is stale
    paused = started(test_installation)
    paused.status = CaseStatus.PENDING_CUSTOMER
    apply(paused, sla_case_pause(case=paused, at=utc(2026, 11, 16, 11, 0)) + ["status"])
    resolved = started(test_installation)
    resolved.status = CaseStatus.RESOLVED
    apply(resolved, sla_case_stop(case=resolved, at=utc(2026, 11, 16, 11, 0)) + ["status"])

    # when the scan runs
    counts = sla_scan(now=now)

    # then rows remain only for the cases that still have something to wait for, all in the future
    assert counts == {"checked": 4, "warned": 1, "breached": 3, "escalated": 2}
    assert dict(SlaCheck.objects.values_list("case_id", "next_check_at")) == {
        warned.pk: utc(2026, 11, 17, 10, 0),
        breached_once.pk: utc(2026, 11, 23, 9, 0),
        later.pk: next_check(later),
    }
    assert next_check(later) > now
    assert {breached_both.pk, no_policy.pk, paused.pk, resolved.pk}.isdisjoint(
        SlaCheck.objects.values_list("case_id", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_scan_skips_a_case_another_transaction_holds_and_fills_the_batch_past_it(test_installation):
    # given three due cases, the oldest locked by another transaction (a case service in progress)
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    import psycopg

    held, *free = [started(test_installation, at=utc(2026, 11, 16, 10, minute)) for minute in range(3)]
    settings = connection.settings_dict
    conninfo = {"dbname": settings["NAME"], "user": settings["USER"], "host": settings["HOST"] or None}
    with psycopg.connect(**conninfo, port=settings["PORT"] or None, password=settings["PASSWORD"] or None) as other:
        other.execute("SELECT 1 FROM support_case WHERE id = %s FOR UPDATE", [held.pk])

        # when a scan runs with batches of two
        counts = sla_scan(now=utc(2026, 11, 17, 12, 0), batch=2)
        other.rollback()

    # then it did not wait: the first batch was filled past the locked case, which stays due for the next scan
    assert counts["checked"] == 2
    assert next_check(held) == utc(2026, 11, 17, 9, 0)
    assert all(next_check(case) > utc(2026, 11, 17, 12, 0) for case in free)
    assert events(held) == []
