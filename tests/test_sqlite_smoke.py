"""The `make run` path: `saleor-support run` on SQLite and the filesystem broker, no PostgreSQL or Redis.

A real signed webhook goes over HTTP into the SQLite inbox, the embedded worker processes it into an
order snapshot, and SIGTERM stops everything.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest

from tests.e2e.procs import BIN, Proc, child_env, create_test_installation_code, free_port, signed_webhook, wait_until

pytestmark = pytest.mark.e2e

RECORDING = "ORDER_CREATED-c_order_expired.json"


def _python(env: dict[str, str], code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"python -c failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _status(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [str(BIN / "saleor-support"), "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_make_run_path_on_sqlite(tmp_path):
    # given `saleor-support run` with nothing configured but a private var dir and a free port
    port = free_port()
    env = child_env(
        SUPPORT_VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        DATABASE_URL=None,
        CELERY_BROKER_URL=None,
        APP_URL=None,
        # keep beat quiet: this test is about the webhook path
        POLL_INTERVAL_SECONDS="3600",
        SWEEP_INTERVAL_SECONDS="3600",
    )
    base = f"http://127.0.0.1:{port}"
    run = Proc.start("saleor-support-run", [str(BIN / "saleor-support"), "run"], env=env, log_dir=tmp_path)
    try:
        # when it is up, the manifest answers (so the database was migrated before the server started)
        manifest = wait_until(
            lambda: httpx.get(f"{base}/api/manifest", timeout=2).raise_for_status().json(),
            timeout=60,
            what="the manifest",
            alive=run.died,
            log=run.tail,
        )
        assert manifest["tokenTargetUrl"] == f"{base}/api/register"
        assert (tmp_path / "var" / "support.sqlite3").exists()
        assert wait_until(lambda: f"{base}/api/manifest" in run.tail(200), timeout=10, what="the banner")

        # and an installation exists in that SQLite database, trusting the test signing key
        _python(env, create_test_installation_code())

        # when Saleor posts a signed ORDER_CREATED
        path, headers, raw = signed_webhook(RECORDING)
        response = httpx.post(base + path, content=raw, headers=headers, timeout=10)
        assert response.status_code == 200, response.text

        # then the embedded worker processes it from the filesystem broker into a snapshot
        status = wait_until(
            lambda: (s := _status(env))["inbox_by_status"]["processed"] == 1 and s,
            timeout=60,
            what="the worker to process the webhook",
            alive=run.died,
            log=run.tail,
            interval=1,
        )
        assert status["inbox_by_status"] == {"received": 0, "processed": 1, "ignored": 0, "failed": 0}
        assert status["oldest_received"] is None
        order = json.loads(raw)["order"]
        out = _python(
            env,
            "import django; django.setup()\n"
            "from saleor_support_plugin.models import OrderSnapshot\n"
            "print([(o.saleor_id, o.status) for o in OrderSnapshot.objects.all()])\n",
        )
        assert out.strip() == repr([(order["id"], order["status"])])

        # when the operator stops it, web server and worker go down and it exits cleanly
        run.popen.send_signal(signal.SIGTERM)
        assert run.popen.wait(40) == 0, run.tail()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/healthz", timeout=2)
        assert "stopping (SIGTERM)" in run.tail(200)
    finally:
        run.stop()
