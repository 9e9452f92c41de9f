"""`saleor-support replay`: failed inbox rows go back to `received` (due now, fresh attempts) and a drain is kicked."""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.cli import main
from saleor_support_plugin.models import EventStatus, OrderSnapshot, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_dedupe_key
from saleor_support_plugin.tasks import inbox_drain_task
from tests.conftest import make_installation
from tests.fixtures.recordings import RECORDED_API_URL, recorded

OTHER = "https://other.example.com/graphql/"


def _failed(installation, *, raw_body: str = "{}", event_type: str = "ORDER_CREATED", key: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        installation=installation,
        event_type=event_type,
        dedupe_key=key,
        raw_body=raw_body,
        status=EventStatus.FAILED,
        attempts=1,
        last_error="TEMPORARILY_UNAVAILABLE: Saleor timed out.",
    )


@pytest.fixture
def failed_events(db):
    shop = make_installation()  # the recorded lab Saleor: its recorded bodies are valid events for it
    other = make_installation(api_url=OTHER, app_id="QXBwOjg=")
    hook = recorded("ORDER_CREATED-c_order_expired.json")
    real = _failed(
        shop,
        raw_body=hook.raw_body.decode(),
        key=webhook_dedupe_key(api_url=RECORDED_API_URL, event_type=hook.event, raw_body=hook.raw_body),
    )
    second = _failed(shop, key="replay-2")
    third = _failed(other, key="replay-3")
    done = WebhookEvent.objects.create(
        installation=shop, event_type="ORDER_UPDATED", dedupe_key="replay-done", raw_body="{}", status="processed"
    )
    return real, second, third, done


def _statuses() -> dict[int, str]:
    return dict(WebhookEvent.objects.values_list("pk", "status"))


def test_replay_resets_failed_rows_and_enqueues_them(failed_events, capsys, django_capture_on_commit_callbacks):
    real, second, third, done = failed_events

    # when the operator replays failed events
    with django_capture_on_commit_callbacks() as callbacks:
        code = main(["replay"])

    # then every failed row is received again, due now, with its error and attempts cleared, and one drain kicked
    out = capsys.readouterr().out
    assert code == 0
    assert f"re-queued 3 failed events: {real.pk}, {second.pk}, {third.pk}" in out
    assert _statuses() == {
        real.pk: "received",
        second.pk: "received",
        third.pk: "received",
        done.pk: "processed",
    }
    replayed = WebhookEvent.objects.filter(status="received")
    assert set(replayed.values_list("last_error", "attempts", "next_attempt_at")) == {("", 0, None)}
    assert len(callbacks) == 1

    # and the worker's drain (the task, called directly) now turns the recorded order into a snapshot
    inbox_drain_task()
    real.refresh_from_db()
    assert real.status == EventStatus.PROCESSED
    assert OrderSnapshot.objects.get().status == json.loads(real.raw_body)["order"]["status"]


def test_replay_dry_run_lists_and_changes_nothing(failed_events, capsys, django_capture_on_commit_callbacks):
    real, second, third, _ = failed_events

    with django_capture_on_commit_callbacks() as callbacks:
        code = main(["replay", "--installation", RECORDED_API_URL, "--dry-run"])

    out = capsys.readouterr().out
    assert code == 0
    assert "dry run: 2 failed events would be re-queued" in out
    assert "TEMPORARILY_UNAVAILABLE: Saleor timed out." in out
    assert str(real.pk) in out and str(second.pk) in out
    assert WebhookEvent.objects.filter(status="failed").count() == 3
    assert callbacks == []


def test_replay_by_id_and_installation(failed_events, capsys, django_capture_on_commit_callbacks):
    real, second, third, done = failed_events

    with django_capture_on_commit_callbacks():
        code = main(["replay", "--installation", OTHER, "--id", str(third.pk), str(real.pk), str(done.pk)])

    out = capsys.readouterr().out
    assert code == 0
    # `real` belongs to another installation and `done` is processed: named, not touched
    assert f"skipped (no failed event with these ids): {real.pk}, {done.pk}" in out
    assert f"re-queued 1 failed events: {third.pk}" in out
    assert _statuses()[third.pk] == "received"
    assert _statuses()[real.pk] == "failed" and _statuses()[done.pk] == "processed"


def test_replay_with_nothing_to_do(db, capsys):
    make_installation()

    assert main(["replay"]) == 0
    assert "re-queued 0 failed events" in capsys.readouterr().out


def test_replay_bad_arguments_are_usage_errors(db, capsys):
    assert main(["replay", "--status", "processed"]) == 2
    assert "invalid choice: 'processed'" in capsys.readouterr().err
    assert main(["replay", "--id", "x"]) == 2
    assert "invalid int value" in capsys.readouterr().err
