"""A webhook on PostgreSQL inserts its row and reads the drain flag in one round trip (support_inbox_insert()).

It may skip its kick only when the drain that will clear the flag cannot miss its row: these tests run on
real commits (transactional) and a second connection, to see the lock do its part.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections
from django.utils import timezone

from saleor_support_plugin import inbox_drain
from saleor_support_plugin.models import InboxDrainState, WebhookEvent
from saleor_support_plugin.services.inbox import PG_INSERT_COLUMNS, webhook_event_record
from saleor_support_plugin.tasks import inbox_drain_task

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="support_inbox_insert() and the inbox lock are PostgreSQL's"
)


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(inbox_drain_task, "apply_async", lambda *a, **options: sent.append(options))
    return sent


@pytest.fixture
def kicks(monkeypatch) -> list[bool]:
    """Every kick a new row made (and whether it published)."""
    made: list[bool] = []
    real = inbox_drain.inbox_drain_kick

    def counting(**kwargs) -> bool:
        made.append(real(**kwargs))
        return made[-1]

    monkeypatch.setattr(inbox_drain, "inbox_drain_kick", counting)
    return made


def _record(installation, key: str):
    return webhook_event_record(installation=installation, event_type="ORDER_UPDATED", raw_body="{}", dedupe_key=key)


def test_the_function_writes_every_column_and_uses_the_drains_lock(db):
    migration = importlib.import_module("saleor_support_plugin.migrations.0007_inbox_drain_state")
    assert migration.INBOX_LOCK_KEY == inbox_drain.INBOX_LOCK_KEY
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('support_inbox_insert'::regproc)")
        definition = cursor.fetchone()[0]
    assert f"pg_advisory_xact_lock_shared({inbox_drain.INBOX_LOCK_KEY})" in definition
    # a model field added later needs a new version of the function (and of PG_INSERT_COLUMNS)
    insert = definition[definition.index("INSERT INTO support_webhook_event") :].split(")", 1)[0]
    assert [c.strip() for c in insert.split("(", 1)[1].split(",")] == list(PG_INSERT_COLUMNS)


def test_the_ingest_bench_starts_drains_as_the_worker_does():
    path = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"
    spec = importlib.util.spec_from_file_location("bench_ingest", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.PG_CLEAR_PENDING == inbox_drain.PG_CLEAR_PENDING
    assert bench.PG_TRY_CLEAR_PENDING == inbox_drain.PG_TRY_CLEAR_PENDING


@pytest.mark.django_db(transaction=True)
def test_a_webhook_kicks_only_when_no_drain_is_pending(test_installation, published, kicks):
    # the first new row finds no drain pending: it kicks, and the kick publishes one
    recorded = _record(test_installation, "a")
    assert kicks == [True] and len(published) == 1
    # (written as the plain INSERT writes it: received, due now, no attempt yet)
    row = WebhookEvent.objects.get(pk=recorded.pk)
    assert (row.installation_id, row.source, row.event_type, row.dedupe_key, row.raw_body) == (
        test_installation.pk,
        "webhook",
        "ORDER_UPDATED",
        "a",
        "{}",
    )
    assert (row.status, row.attempts, row.last_error, row.processed_at, row.next_attempt_at) == (
        "received",
        0,
        "",
        None,
        None,
    )
    assert timezone.now() - timedelta(minutes=1) < row.received_at <= timezone.now()

    # rows while that drain has not started: the insert saw the flag, no kick at all (no extra round trip)
    assert _record(test_installation, "b") is not None
    assert _record(test_installation, "c") is not None
    assert kicks == [True]

    # a duplicate neither kicks nor counts
    assert _record(test_installation, "b") is None
    assert kicks == [True]

    # once a drain started (cleared the flag), the next row kicks and publishes again
    inbox_drain.inbox_drain_pending_clear()
    assert _record(test_installation, "d") is not None
    assert kicks == [True, True] and len(published) == 2
    assert WebhookEvent.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_lapsed_flag_makes_the_webhook_kick(test_installation, published, kicks):
    InboxDrainState.objects.update_or_create(pk=1, defaults={"pending_until": timezone.now() - timedelta(seconds=1)})
    assert _record(test_installation, "a") is not None
    assert kicks == [True] and len(published) == 1


@pytest.mark.django_db(transaction=True)
def test_a_drain_clears_the_flag_only_after_the_webhooks_in_flight_commit(test_installation, published):
    # given a pending drain, and a webhook whose insert (it read "pending": no kick) has not committed yet
    assert inbox_drain.inbox_drain_kick() is True
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432, password=db["PASSWORD"] or None
    )
    try:
        row = other.execute(
            "SELECT event_id, kick FROM support_inbox_insert(%s, 'webhook', 'ORDER_UPDATED', 'in-flight', '{}',"
            " '', NULL, false)",
            [test_installation.pk],
        ).fetchone()
        assert row[0] is not None and row[1] is False

        # when that drain starts, in a worker of its own
        cleared = threading.Event()

        def drain_start() -> None:
            try:
                inbox_drain.inbox_drain_pending_clear()
                cleared.set()
            finally:
                connections.close_all()

        worker = threading.Thread(target=drain_start)
        worker.start()

        # then it waits for that webhook: clearing now could let its scan run before the row is committed
        time.sleep(0.5)
        assert not cleared.is_set()
        assert InboxDrainState.objects.get(pk=1).pending_until > timezone.now()

        # and meanwhile the next webhooks do not wait for the drain (it only tries the lock, it never queues)
        recorded: list = []

        def next_webhook() -> None:
            try:
                recorded.append(_record(test_installation, "meanwhile"))
            finally:
                connections.close_all()

        other_webhook = threading.Thread(target=next_webhook)
        other_webhook.start()
        other_webhook.join(5)
        assert not other_webhook.is_alive() and recorded[0] is not None
        assert not cleared.is_set()

        other.commit()
        worker.join(10)
        assert cleared.is_set()
    finally:
        other.close()

    # and once cleared, the drain's scan sees the row
    assert InboxDrainState.objects.get(pk=1).pending_until is None
    assert WebhookEvent.objects.filter(dedupe_key="in-flight").exists()
