"""The inbox insert: a hand-written statement on PostgreSQL, the ORM elsewhere; both must write the same row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from saleor_support_plugin.models import EventSource, EventStatus, WebhookEvent
from saleor_support_plugin.services.inbox import PG_INSERT_COLUMNS, RecordedEvent, webhook_event_record


def test_the_statement_names_every_column_of_the_model():
    # a new NOT NULL field without a place in the statement would make every webhook fail on PostgreSQL
    columns = {f.column for f in WebhookEvent._meta.concrete_fields if not f.primary_key}
    assert set(PG_INSERT_COLUMNS) == columns
    assert len(PG_INSERT_COLUMNS) == len(columns)


@pytest.fixture(params=["vendor", "orm"])
def insert_path(request, monkeypatch):
    """The path the database in use takes, and the portable ORM path (what SQLite takes) on this database."""
    if request.param == "orm":
        monkeypatch.setattr(connection, "vendor", "other")
    return request.param


def test_a_new_event_is_written_received_and_due_now(
    test_installation, insert_path, django_capture_on_commit_callbacks
):
    issued = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    before = timezone.now()

    with django_capture_on_commit_callbacks() as callbacks:
        recorded = webhook_event_record(
            installation=test_installation,
            event_type="ORDER_UPDATED",
            raw_body='{"a": "ü"}',
            dedupe_key="k" * 64,
            object_id="T3JkZXI6MQ==" * 30,
            issued_at=issued,
            is_echo=True,
            source=EventSource.POLL,
        )

    assert isinstance(recorded, RecordedEvent)
    row = WebhookEvent.objects.get()
    assert row.pk == recorded.pk
    assert (row.installation_id, row.source, row.event_type, row.dedupe_key, row.raw_body) == (
        test_installation.pk,
        "poll",
        "ORDER_UPDATED",
        "k" * 64,
        '{"a": "ü"}',
    )
    assert (row.object_id, row.issued_at, row.is_echo) == (("T3JkZXI6MQ==" * 30)[:255], issued, True)
    assert (row.status, row.attempts, row.last_error, row.processed_at, row.next_attempt_at) == (
        EventStatus.RECEIVED,
        0,
        "",
        None,
        None,
    )
    # (PostgreSQL's now() is the transaction's start: the test's transaction began a little earlier)
    assert before - timedelta(minutes=1) <= row.received_at <= timezone.now()
    assert len(callbacks) == 1  # the drain kick, after commit


def test_a_duplicate_is_none_and_kicks_nothing(test_installation, insert_path, django_capture_on_commit_callbacks):
    args = {"installation": test_installation, "event_type": "ORDER_UPDATED", "raw_body": "{}", "dedupe_key": "d"}
    with django_capture_on_commit_callbacks() as callbacks:
        first = webhook_event_record(**args)
        second = webhook_event_record(**{**args, "raw_body": '{"other": 1}'})

    assert first is not None and second is None
    assert WebhookEvent.objects.get().raw_body == "{}"
    assert len(callbacks) == 1
