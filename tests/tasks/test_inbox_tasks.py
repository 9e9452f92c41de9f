from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from saleor_support_plugin import inbox_drain
from saleor_support_plugin.errors import RetryableError, SupportErrorCode
from saleor_support_plugin.models import EventStatus, InboxDrainState, OrderSnapshot, WebhookEvent
from saleor_support_plugin.services.inbox import MAX_ATTEMPTS, webhook_event_record
from saleor_support_plugin.tasks import inbox_drain_task, inbox_sweep_task, webhook_event_process_task
from tests.fixtures.recordings import post_recorded, recorded


def _event(installation, key: str, **kw) -> WebhookEvent:
    kw.setdefault("event_type", "ORDER_CREATED")
    kw.setdefault("raw_body", "{}")
    return WebhookEvent.objects.create(installation=installation, dedupe_key=key, **kw)


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    """Every drain publish (its options), instead of sending it to the broker."""
    sent: list[dict] = []
    monkeypatch.setattr(inbox_drain_task, "apply_async", lambda *a, **options: sent.append(options))
    return sent


def _drain_state() -> InboxDrainState:
    return InboxDrainState.objects.get(pk=1)


@pytest.fixture
def handler(monkeypatch):
    """Replace the dispatcher: bodies name what happens ({"raise": "retry"|"boom"}); calls are recorded."""
    calls: list[int] = []

    def dispatch(event: WebhookEvent) -> None:
        calls.append(event.pk)
        if '"retry"' in event.raw_body:
            raise RetryableError(SupportErrorCode.TEMPORARILY_UNAVAILABLE, "Saleor timed out.")
        if '"db"' in event.raw_body:
            raise OperationalError("deadlock detected")
        if '"boom"' in event.raw_body:
            raise KeyError("order")

    monkeypatch.setattr("saleor_support_plugin.inbox_dispatch.dispatch", dispatch)
    return calls


# --- the drain -------------------------------------------------------------------------------------


def test_drain_processes_every_due_row_once_oldest_first(test_installation, handler, published):
    # given three new rows, one retry that is due, one that is not yet due, and a processed row
    new = [_event(test_installation, f"new-{i}") for i in range(3)]
    due = _event(test_installation, "due", attempts=2, next_attempt_at=timezone.now() - timedelta(seconds=1))
    _event(test_installation, "later", attempts=2, next_attempt_at=timezone.now() + timedelta(minutes=5))
    _event(test_installation, "done", status=EventStatus.PROCESSED)

    # when a drain runs
    result = inbox_drain_task.run()

    # then every due row was processed once, in arrival order; the other two were left alone
    assert handler == [e.pk for e in [*new, due]]
    assert result == {"processed": 4, "retried": 0, "handed_over": 0}
    rows = {e.dedupe_key: e for e in WebhookEvent.objects.all()}
    assert {k: (e.status, e.attempts) for k, e in rows.items()} == {
        "new-0": ("processed", 1),
        "new-1": ("processed", 1),
        "new-2": ("processed", 1),
        "due": ("processed", 3),
        "later": ("received", 2),
        "done": ("processed", 0),
    }
    # and the next drain finds nothing to do (duplicates are harmless)
    assert inbox_drain_task.run()["processed"] == 0
    assert len(handler) == 4


def test_drain_turns_real_webhooks_into_snapshots(client, recorded_installation, published):
    hook = recorded("ORDER_CREATED-c_paid_order_from_checkout.json")
    assert post_recorded(client, hook).status_code == 200

    assert inbox_drain_task.run()["processed"] == 1

    assert WebhookEvent.objects.get().status == EventStatus.PROCESSED
    assert OrderSnapshot.objects.get().saleor_id == hook.body["order"]["id"]


def test_transient_failure_schedules_a_retry_and_never_blocks_other_rows(test_installation, handler, published):
    # given a row whose handler cannot reach Saleor, between two good rows
    first = _event(test_installation, "first")
    flaky = _event(test_installation, "flaky", raw_body='{"raise": "retry"}')
    last = _event(test_installation, "last")
    before = timezone.now()

    result = inbox_drain_task.run()

    # then the good rows are processed and the flaky one waits for its backoff (1-2 s after the 1st attempt)
    assert result == {"processed": 2, "retried": 1, "handed_over": 0}
    assert set(WebhookEvent.objects.filter(pk__in=[first.pk, last.pk]).values_list("status", flat=True)) == {
        "processed"
    }
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts) == (EventStatus.RECEIVED, 1)
    assert "RetryableError: TEMPORARILY_UNAVAILABLE" in flaky.last_error
    assert timedelta(seconds=1) <= flaky.next_attempt_at - before <= timedelta(seconds=2, milliseconds=500)
    # and one delayed drain is scheduled for when it is due
    assert len(published) == 1 and 0 < published[0]["countdown"] <= 2.5

    # when another drain runs before the retry is due, it leaves the row alone
    assert inbox_drain_task.run() == {"processed": 0, "retried": 0, "handed_over": 0}
    assert handler.count(flaky.pk) == 1


def test_database_errors_are_retried_like_saleor_errors(test_installation, handler, published):
    row = _event(test_installation, "db", raw_body='{"raise": "db"}')

    assert inbox_drain_task.run()["retried"] == 1

    row.refresh_from_db()
    assert (row.status, row.attempts) == (EventStatus.RECEIVED, 1)
    assert row.last_error.startswith("OperationalError: deadlock detected")


def test_retries_back_off_exponentially_then_the_row_fails_with_the_reason(test_installation, handler, published):
    row = _event(test_installation, "flaky", raw_body='{"raise": "retry"}')
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # when the row is due again and the drain runs
        WebhookEvent.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        before = timezone.now()
        inbox_drain_task.run()
        row.refresh_from_db()
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.status == EventStatus.RECEIVED
            delays.append((row.next_attempt_at - before).total_seconds())

    # then the waits grew (2^n s, jittered down to half), and after the last attempt the row is failed, visibly
    for n, delay in enumerate(delays, start=1):
        assert 2**n / 2 <= delay <= 2**n + 0.5, delays
    assert row.status == EventStatus.FAILED
    assert row.last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts: RetryableError")
    assert row.processed_at is not None


def test_unexpected_error_fails_only_that_row(test_installation, handler, published):
    broken = _event(test_installation, "broken", raw_body='{"raise": "boom"}')
    fine = _event(test_installation, "fine")

    assert inbox_drain_task.run()["processed"] == 2

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.status, broken.last_error) == (EventStatus.FAILED, "KeyError: 'order'")
    assert fine.status == EventStatus.PROCESSED


def test_drain_out_of_time_hands_over_to_a_new_drain(test_installation, handler, published, monkeypatch):
    monkeypatch.setattr("saleor_support_plugin.tasks.DRAIN_BUDGET_SECONDS", 0.0)
    _event(test_installation, "waiting")

    assert inbox_drain_task.run() == {"processed": 0, "retried": 0, "handed_over": 1}
    assert len(published) == 1


# --- kicks: coalesced through the drain flag in the database ---------------------------------------


def test_new_row_kicks_once_per_pending_drain(test_installation, published, django_capture_on_commit_callbacks):
    # when three new rows commit while no drain has started yet
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            webhook_event_record(
                installation=test_installation, event_type="ORDER_CREATED", raw_body="{}", dedupe_key=f"k{i}"
            )

    # then one drain was published, and the pending flag lapses by itself if its message is lost
    assert len(published) == 1
    ttl = (_drain_state().pending_until - timezone.now()).total_seconds()
    assert 0 < ttl <= inbox_drain.DRAIN_PENDING_TTL_SECONDS


def test_rows_committed_after_the_drain_started_kick_a_new_drain(
    test_installation, published, monkeypatch, django_capture_on_commit_callbacks
):
    # given a pending drain, and a Saleor that delivers one more webhook while that drain is processing
    assert inbox_drain.inbox_drain_kick() is True
    first = _event(test_installation, "first")

    def dispatch(event: WebhookEvent) -> None:
        if event.pk == first.pk:
            with django_capture_on_commit_callbacks(execute=True):  # "another process commits"
                webhook_event_record(
                    installation=test_installation, event_type="ORDER_CREATED", raw_body="{}", dedupe_key="late"
                )

    monkeypatch.setattr("saleor_support_plugin.inbox_dispatch.dispatch", dispatch)

    # when the drain runs (it clears the pending flag before it looks for rows)
    inbox_drain_task.run()

    # then the late row's kick found no pending drain and published a second one
    assert len(published) == 2
    assert _drain_state().pending_until > timezone.now()


def test_kick_before_the_drain_started_publishes_nothing_more(db, published):
    assert [inbox_drain.inbox_drain_kick() for _ in range(3)] == [True, False, False]
    inbox_drain.inbox_drain_pending_clear()  # what the drain does first
    assert inbox_drain.inbox_drain_kick() is True
    assert len(published) == 2


def test_a_lapsed_flag_no_longer_suppresses_kicks(db, published):
    # given a drain whose message was lost 31 s ago
    assert inbox_drain.inbox_drain_kick() is True
    InboxDrainState.objects.filter(pk=1).update(pending_until=timezone.now() - timedelta(seconds=1))

    # then the next new row publishes another one
    assert inbox_drain.inbox_drain_kick() is True
    assert len(published) == 2


def test_failed_publish_lets_the_next_kick_try_again(db, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(inbox_drain_task, "apply_async", down)
    assert inbox_drain.inbox_drain_kick() is False
    assert _drain_state().pending_until is None


def test_a_missing_flag_row_is_recreated_by_the_next_kick(db, published):
    # (`manage.py flush`, or a test database flushed between tests)
    InboxDrainState.objects.all().delete()
    assert inbox_drain.inbox_drain_kick() is True
    assert inbox_drain.inbox_drain_kick() is False
    assert len(published) == 1
    inbox_drain.inbox_drain_pending_clear()
    assert _drain_state().pending_until is None


def test_kick_publishes_when_the_flag_cannot_be_read(db, published, monkeypatch):
    def broken() -> bool:
        raise OperationalError("the database went away")

    monkeypatch.setattr(inbox_drain, "_set_pending", broken)
    # it cannot tell whether a drain is pending: a spare drain is harmless, a missing one is not
    assert [inbox_drain.inbox_drain_kick() for _ in range(2)] == [True, True]


def test_only_one_delayed_drain_per_retry_time(test_installation, handler, published):
    _event(test_installation, "a", raw_body='{"raise": "retry"}')
    inbox_drain_task.run()
    _event(test_installation, "b", raw_body='{"raise": "retry"}')
    inbox_drain_task.run()  # b's retry is not earlier than a's (+1 s): the scheduled drain serves both

    delayed = [p for p in published if "countdown" in p]
    assert len(delayed) in (1, 2)  # 2 only when b's jitter made it due more than a second before a
    assert _drain_state().retry_at is not None


def test_an_earlier_retry_gets_its_own_delayed_drain(db, published):
    now = timezone.now()
    assert inbox_drain.inbox_drain_retry_kick(now + timedelta(seconds=60)) is True
    assert inbox_drain.inbox_drain_retry_kick(now + timedelta(seconds=60.5)) is False  # served by that one
    assert inbox_drain.inbox_drain_retry_kick(now + timedelta(seconds=10)) is True  # too late for this one
    assert [round(p["countdown"]) for p in published] == [60, 10]


def test_kicks_coalesce_with_any_broker(db, published, monkeypatch):
    # the flag is in the database: a RabbitMQ or filesystem broker coalesces kicks too
    monkeypatch.setattr(inbox_drain_task.app.conf, "broker_url", "amqp://guest@127.0.0.1:5672//")
    assert [inbox_drain.inbox_drain_kick() for _ in range(3)] == [True, False, False]
    assert len(published) == 1


# --- the sweeper -----------------------------------------------------------------------------------


def test_sweeper_kicks_a_drain_only_for_rows_a_drain_may_not_know_of(test_installation, published):
    now = timezone.now()
    # given a fresh row (its kick is on the way), a retry not due yet and a processed old row
    _event(test_installation, "fresh")
    _event(test_installation, "later", attempts=1, next_attempt_at=now + timedelta(minutes=1))
    old_done = _event(test_installation, "done", status=EventStatus.PROCESSED)
    WebhookEvent.objects.filter(pk=old_done.pk).update(received_at=now - timedelta(minutes=10))

    # then the sweeper does nothing
    assert inbox_sweep_task.run() == 0
    assert published == []

    # when a row has waited 10 minutes for its first attempt (lost kick) and a retry is due
    lost = _event(test_installation, "lost")
    WebhookEvent.objects.filter(pk=lost.pk).update(received_at=now - timedelta(minutes=10))
    _event(test_installation, "due", attempts=1, next_attempt_at=now - timedelta(seconds=1))

    # then it counts both and publishes one drain
    assert inbox_sweep_task.run() == 2
    assert len(published) == 1


# --- the per-row task (older messages, manual use) -------------------------------------------------


def test_exhausted_retries_leave_the_row_failed_with_the_reason(test_installation):
    event = _event(test_installation, "d" * 64)

    webhook_event_process_task.on_failure(ConnectionError("database went away"), "task-id", (event.pk,), {}, None)

    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert "database went away" in event.last_error


def test_task_runs_the_processing_service(test_installation):
    # an event type nobody handles is a permanent failure, visible on the row (not a crash loop)
    event = _event(test_installation, "e" * 64, event_type="ORDER_DELETED")

    result = webhook_event_process_task.run(event.pk)

    event.refresh_from_db()
    assert result == EventStatus.FAILED
    assert "No handler" in event.last_error


def test_email_sweep_requeues_only_lost_never_attempted_sends(test_installation, django_capture_on_commit_callbacks):
    from saleor_support_plugin.events import Actor
    from saleor_support_plugin.models import OutboundEmail
    from saleor_support_plugin.services.cases import case_open
    from saleor_support_plugin.services.email import outbound_email_queue
    from saleor_support_plugin.tasks import outbound_email_sweep_task

    # given three queued e-mails: one lost 20 minutes ago, one in retry backoff, one just queued
    case = case_open(
        installation=test_installation,
        subject="Hello",
        actor=Actor.customer(email="a@example.com"),
        customer_email="a@example.com",
    )
    lost, retrying, fresh = (
        outbound_email_queue(case=case, kind="reply", to_email="a@example.com", body=f"text {i}") for i in range(3)
    )
    old = timezone.now() - timedelta(minutes=20)
    OutboundEmail.objects.filter(pk=lost.pk).update(created_at=old)
    OutboundEmail.objects.filter(pk=retrying.pk).update(created_at=old, attempts=2)

    # when the sweep runs
    with django_capture_on_commit_callbacks() as callbacks:
        count = outbound_email_sweep_task.run()

    # then only the lost one is sent again
    assert count == 1
    assert len(callbacks) == 1
    assert fresh.status == "queued"
