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
