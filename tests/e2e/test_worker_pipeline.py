"""The production pipeline as separate processes: gunicorn → PostgreSQL inbox → Redis → a real Celery worker.

A new inbox row kicks a drain (``inbox_drain_task``, one Redis SET NX per row, a publish only when no drain is
pending); the worker's drain processes every due row. The second test SIGKILLs the worker (main process and
pool child) while its drain is blocked inside a row's transaction and proves the acks_late +
reject_on_worker_lost + visibility-timeout contract: the half-done transaction rolls back, the rows stay
``received``, Redis redelivers the unacknowledged drain to a new worker, and every event ends ``processed``
exactly once with the right final snapshot. The inbox sweeper cannot be what saves it: no beat runs here.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.db import connection, transaction

from saleor_support_plugin.models import OrderSnapshot, WebhookEvent
from tests.conftest import make_installation
from tests.e2e.procs import TEST_API_URL, TEST_APP_ID, Proc, child_env, free_port, signed_webhook, wait_until
from tests.fixtures import signing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The suite's Redis database (make test sets CELERY_BROKER_URL); it is flushed before each test.
_env_broker = os.environ.get("CELERY_BROKER_URL", "")
BROKER_URL = _env_broker if _env_broker.startswith("redis://") else "redis://127.0.0.1:6379/15"
VISIBILITY_TIMEOUT = 5
TIMEOUT = 60
CREATED = "ORDER_CREATED-c_order_expired.json"
EXPIRED = "ORDER_EXPIRED-c_order_expired.json"
UPDATED = "ORDER_UPDATED-c_order_expired.json"


def _database_url(settings: dict) -> str:
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    base_url: str = ""
    procs: list[Proc] = field(default_factory=list)
    workers: int = 0

    def start_web(self) -> Proc:
        port = free_port()
        web = self._start(
            "gunicorn",
            [
                sys.executable, "-m", "gunicorn", "saleor_support_plugin.project.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket",
            ],
        )  # fmt: skip
        self.base_url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200,
            timeout=TIMEOUT,
            what="gunicorn to answer /healthz",
            alive=web.died,
            log=web.tail,
        )
        return web

    def start_worker(self) -> Proc:
        self.workers += 1
        worker = self._start(
            f"worker-{self.workers}",
            [
                sys.executable, "-m", "celery", "-A", "saleor_support_plugin.project.celery", "worker",
                "--pool", "prefork", "--concurrency", "1", "-Q", "celery", "--loglevel", "INFO",
                "--hostname", f"e2e-{self.workers}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
        )  # fmt: skip
        wait_until(
            lambda: " ready." in worker.tail(), timeout=TIMEOUT, what=f"{worker.name} to be ready", alive=worker.died
        )
        return worker

    def _start(self, name: str, argv: list[str]) -> Proc:
        proc = Proc.start(name, argv, env=self.env, log_dir=self.log_dir)
        self.procs.append(proc)
        return proc

    def post(self, recording: str) -> httpx.Response:
        path, headers, raw = signed_webhook(recording)
        return httpx.post(self.base_url + path, content=raw, headers=headers, timeout=20)

    def logs(self) -> str:
        """What a failing test should show: the inbox rows and the tail of every process log."""
        rows = list(WebhookEvent.objects.order_by("pk").values_list("pk", "event_type", "status", "attempts"))
        return f"inbox (id, event, status, attempts): {rows}\n" + "\n".join(
            f"--- {p.name} ---\n{p.tail(40)}" for p in self.procs
        )


@pytest.fixture
def stack(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker pipeline test needs PostgreSQL (set DATABASE_URL): other processes must see the DB")
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {BROKER_URL} ({exc}); start it with `make services`")
    env = child_env(
        DATABASE_URL=_database_url(connection.settings_dict),
        CELERY_BROKER_URL=BROKER_URL,
        VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        SUPPORT_VAR_DIR=str(tmp_path / "var"),
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    make_installation(api_url=TEST_API_URL, app_id=TEST_APP_ID, jwks=signing.test_jwks())
    running = Stack(env=env, log_dir=tmp_path)
    try:
        yield running
    finally:
        # Before pytest-django flushes the tables: no child may keep a connection or a lock.
        for proc in running.procs:
            proc.stop(timeout=10)


def _event(event_type: str) -> WebhookEvent:
    return WebhookEvent.objects.get(event_type=event_type)


def _all_processed(count: int):
    def check() -> bool:
        statuses = list(WebhookEvent.objects.values_list("status", flat=True))
        return len(statuses) == count and set(statuses) == {"processed"}

    return check


def _order_id(recording: str) -> str:
    _, _, raw = signed_webhook(recording)
    return json.loads(raw)["order"]["id"]


def test_http_webhook_goes_through_a_real_worker_into_the_snapshot(stack):
    # given the web server and one real worker
    web = stack.start_web()
    worker = stack.start_worker()

    # when Saleor posts a signed ORDER_CREATED over HTTP
    response = stack.post(CREATED)

    # then it is accepted, stored, and the worker's drain turns it into the order snapshot
    assert response.status_code == 200, response.text
    wait_until(_all_processed(1), timeout=TIMEOUT, what="ORDER_CREATED to be processed", log=stack.logs)
    assert "saleor_support_plugin.tasks.inbox_drain_task" in worker.tail(200)
    snapshot = OrderSnapshot.objects.get(saleor_id=_order_id(CREATED))
    assert snapshot.status == "UNCONFIRMED"
    assert snapshot.source_event_id == _event("ORDER_CREATED").pk
    assert _event("ORDER_CREATED").attempts == 1

    # and Saleor retrying the same delivery is answered without a second inbox row
    again = stack.post(CREATED)
    assert again.status_code == 200, again.text
    assert WebhookEvent.objects.count() == 1
    assert web.died() is None and worker.died() is None


def _backend_waiting_for_a_lock() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND query LIKE %s",
            ["%support_order_snapshot%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def test_sigkilled_worker_mid_task_loses_nothing_and_redelivery_finishes(stack):
    # given the order was created and processed
    stack.start_web()
    worker = stack.start_worker()
    assert stack.post(CREATED).status_code == 200
    wait_until(_all_processed(1), timeout=TIMEOUT, what="ORDER_CREATED to be processed", log=stack.logs)
    order_id = _order_id(CREATED)

    # and this test holds the order snapshot's row lock, so the next drain blocks inside a row's transaction
    with transaction.atomic():
        OrderSnapshot.objects.select_for_update().get(saleor_id=order_id)
        for recording in (EXPIRED, UPDATED):
            response = stack.post(recording)
            assert response.status_code == 200, response.text
        blocked_pid = wait_until(
            _backend_waiting_for_a_lock,
            timeout=TIMEOUT,
            what="the worker to block on the snapshot lock",
            log=stack.logs,
        )

        # when the whole worker (main process and pool child) is SIGKILLed mid-task
        worker.kill_group(signal.SIGKILL)
        worker.popen.wait(TIMEOUT)
        killed_at = time.monotonic()

        # then nothing was lost and nothing half-written: both events are still received, never counted (the
        # blocked one's attempt rolled back with its transaction; the other was never reached)
        pending = list(WebhookEvent.objects.filter(event_type__in=["ORDER_EXPIRED", "ORDER_UPDATED"]))
        assert [(e.status, e.attempts) for e in pending] == [("received", 0), ("received", 0)]
        snapshot = OrderSnapshot.objects.get(saleor_id=order_id)
        assert snapshot.status == "UNCONFIRMED"
        assert snapshot.source_event_id == _event("ORDER_CREATED").pk
    # (leaving the block commits and releases the lock)

    # The killed worker's backend notices its client is gone once it gets the lock and rolls back. Until
    # then it still holds the inbox row lock, which the redelivered task would skip (skip_locked).
    wait_until(lambda: _backend_gone(blocked_pid), timeout=TIMEOUT, what="the dead worker's DB session to end")
    assert _event("ORDER_EXPIRED").status == "received" and _event("ORDER_UPDATED").status == "received"

    # when a new worker starts after the visibility timeout (Redis gives back the unacknowledged drain)
    time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 1.5 - time.monotonic()))
    stack.start_worker()

    # then every event ends processed exactly once, and the snapshot holds the newest state
    wait_until(
        _all_processed(3), timeout=TIMEOUT, what="the redelivered events to be processed", log=stack.logs, interval=0.5
    )
    events = {e.event_type: e for e in WebhookEvent.objects.all()}
    assert {t: e.attempts for t, e in events.items()} == {"ORDER_CREATED": 1, "ORDER_EXPIRED": 1, "ORDER_UPDATED": 1}
    snapshot = OrderSnapshot.objects.get(saleor_id=order_id)
    assert snapshot.status == "EXPIRED"
    assert snapshot.source_event_id == events["ORDER_UPDATED"].pk  # issued last, so it wins the tie
    assert OrderSnapshot.objects.count() == 1
