"""Every case operation through its service: state guards, timeline, SLA clocks, tenant scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, CaseEvent, CaseStatus, Customer, Message, OutboundEmail, SlaCheck
from saleor_support_plugin.services.cases import (
    case_assign,
    case_merge,
    case_message_receive,
    case_note_add,
    case_open,
    case_priority_set,
    case_reply,
    case_resolve,
    case_status_set,
    case_tag_add,
    case_tag_remove,
)

STAFF = Actor.staff(email="agent@shop.example", user_id="VXNlcjoy")
TUESDAY_10 = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


def _open(installation, **kw) -> Case:
    defaults = {
        "subject": "Where is my parcel?",
        "reason": "order_status",
        "source": "storefront",
        "actor": Actor.customer(email="ana@example.com"),
        "customer_email": "Ana@Example.com",
        "first_message": "Hi, my order #101 has not arrived.",
        "at": TUESDAY_10,
    }
    return case_open(installation=installation, **{**defaults, **kw})


def _types(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("type", flat=True))


def test_open_numbers_per_installation_and_keeps_one_history_per_customer(test_installation, recorded_installation):
    first = _open(test_installation)
    second = _open(test_installation, subject="Another question")
    elsewhere = _open(recorded_installation)

    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert first.customer_id == second.customer_id != elsewhere.customer_id
    assert Customer.objects.get(pk=first.customer_id).email == "ana@example.com"
    assert first.first_response_due_at is not None and first.resolution_due_at > first.first_response_due_at
    assert _types(first) == ["case_opened", "message_received"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", ""),
        ("subject", "x" * 300),
        ("reason", "not_a_reason"),
        ("priority", "whenever"),
        ("customer_email", "not-an-email"),
    ],
)
def test_open_refuses_bad_input_and_writes_nothing(test_installation, field, value):
    with pytest.raises(PermanentError) as error:
        _open(test_installation, **{field: value})

    assert error.value.field in (field, "email")
    assert not Case.objects.exists() and not Customer.objects.exists()


def test_staff_reply_stops_first_response_clock_and_emails_the_customer(
    test_installation, django_capture_on_commit_callbacks
):
    case = _open(test_installation)

    with django_capture_on_commit_callbacks() as callbacks:
        message = case_reply(case=case, body="It ships today.", actor=STAFF, at=TUESDAY_10 + timedelta(minutes=30))

    case.refresh_from_db()
    assert case.first_responded_at == TUESDAY_10 + timedelta(minutes=30)
    assert case.status == CaseStatus.OPEN
    assert message.direction == "outbound" and message.author_email == STAFF.email
    email = OutboundEmail.objects.get(case=case)
    assert (email.to_email, email.kind) == ("ana@example.com", "reply")
    assert len(callbacks) == 1  # the send task, after commit
    assert _types(case)[-2:] == ["reply_sent", "status_changed"]


def test_waiting_on_customer_pauses_sla_and_their_reply_reopens(test_installation):
    case = _open(test_installation)
    due = case.resolution_due_at
    assert SlaCheck.objects.filter(case=case).exists()
    case_status_set(case=case, status=CaseStatus.PENDING_CUSTOMER, actor=STAFF, at=TUESDAY_10 + timedelta(hours=1))
    case.refresh_from_db()
    assert case.sla_paused_at is not None and not SlaCheck.objects.filter(case=case).exists()

    case_message_receive(
        case=case,
        body="Still nothing",
        channel="email",
        author_email="ana@example.com",
        at=TUESDAY_10 + timedelta(hours=3),
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.sla_paused_at is None
    assert case.resolution_due_at == due + timedelta(hours=2)  # two business hours spent waiting
    assert SlaCheck.objects.filter(case=case).exists()  # the scan looks at it again


def test_transitions_table_is_enforced(test_installation):
    case = _open(test_installation)
    case_status_set(case=case, status=CaseStatus.CLOSED, actor=STAFF)

    with pytest.raises(PermanentError):
        case_status_set(case=case, status=CaseStatus.OPEN, actor=STAFF)
    with pytest.raises(PermanentError):
        case_reply(case=case, body="too late", actor=STAFF)
    assert Case.objects.get().status == CaseStatus.CLOSED


def test_resolve_records_recovered_amount_and_reopen_restarts(test_installation):
    case = _open(test_installation)
    case_resolve(case=case, actor=STAFF, recovered_amount=40, why="paid by phone")
    case.refresh_from_db()
    assert (case.status, case.recovered_amount) == (CaseStatus.RESOLVED, 40)
    assert not SlaCheck.objects.filter(case=case).exists()

    case_message_receive(
        case=case, body="Actually, one more thing", channel="storefront", author_email="ana@example.com"
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.resolved_at is None
    assert SlaCheck.objects.filter(case=case).exists()  # clocks restarted
    assert _types(case)[-2:] == ["message_received", "case_reopened"]


def test_assign_note_priority_and_tags_each_leave_one_timeline_entry(test_installation):
    case = _open(test_installation)

    case_assign(case=case, assignee_user_id="VXNlcjoz", assignee_email="bo@shop.example", actor=STAFF)
    case_assign(case=case, assignee_user_id="VXNlcjoz", assignee_email="bo@shop.example", actor=STAFF)
    case_note_add(case=case, body="VIP customer", actor=STAFF)
    case_priority_set(case=case, priority="urgent", actor=STAFF)
    case_tag_add(case=case, tag="VIP", actor=STAFF)
    case_tag_add(case=case, tag="vip", actor=STAFF)
    case_tag_remove(case=case, tag="vip", actor=STAFF)

    case.refresh_from_db()
    assert case.assignee_email == "bo@shop.example" and case.priority == "urgent"
    assert _types(case)[2:] == ["assigned", "note_added", "priority_changed", "tag_added", "tag_removed"]
    assert case.first_response_due_at <= TUESDAY_10 + timedelta(hours=1)  # urgent target


def test_merge_moves_conversation_and_closes_the_duplicate(test_installation):
    target = _open(test_installation)
    source = _open(test_installation, first_message="Same parcel, second mail")
    case_note_add(case=source, body="dup", actor=STAFF)

    case_merge(source=source, target=target, actor=STAFF)

    source.refresh_from_db()
    assert source.status == CaseStatus.CLOSED and source.merged_into_id == target.pk
    assert Message.objects.filter(case=target).count() == 2
    assert "case_absorbed" in _types(target) and "merged_into" in _types(source)


def test_merge_across_installations_is_refused(test_installation, recorded_installation):
    mine, theirs = _open(test_installation), _open(recorded_installation)

    with pytest.raises(PermanentError):
        case_merge(source=theirs, target=mine, actor=STAFF)

    assert Message.objects.filter(case=mine).count() == 1
