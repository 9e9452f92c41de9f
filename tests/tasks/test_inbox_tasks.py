from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from saleor_support_plugin.models import EventStatus, WebhookEvent
from saleor_support_plugin.tasks import inbox_sweep_task, webhook_event_process_task


def _event(installation, key: str, **kw) -> WebhookEvent:
    kw.setdefault("event_type", "ORDER_CREATED")
    return WebhookEvent.objects.create(installation=installation, dedupe_key=key, raw_body="{}", **kw)


def test_sweeper_requeues_only_rows_whose_task_was_lost(test_installation, django_capture_on_commit_callbacks):
    # given a row stuck in `received` for 10 minutes, a fresh one and a processed one
    stuck = _event(test_installation, "a" * 64)
    fresh = _event(test_installation, "b" * 64)
    done = _event(test_installation, "c" * 64, status=EventStatus.PROCESSED)
    WebhookEvent.objects.filter(pk__in=[stuck.pk, done.pk]).update(received_at=timezone.now() - timedelta(minutes=10))

    # when the sweeper runs
    with django_capture_on_commit_callbacks() as callbacks:
        count = inbox_sweep_task.run()

    # then only the stuck row is enqueued again
    assert count == 1
    assert len(callbacks) == 1
    assert fresh.status == EventStatus.RECEIVED


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
