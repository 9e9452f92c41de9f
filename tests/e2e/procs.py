"""Helpers for tests that run the app as real processes (web server, Celery worker, `saleor-support run`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.fixtures.recordings import recorded
from tests.fixtures.signing import sign_detached, test_jwks

T = TypeVar("T")

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent.parent
TEST_API_URL = "https://shop.example.com/graphql/"
TEST_APP_ID = "QXBwOjc="


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.25, alive=None, log=None) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` (and a log) on timeout.

    ``alive`` is an optional callable returning an error text when a process we depend on has died;
    ``log`` returns text worth showing when we time out (a process log's tail).
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if alive is not None and (problem := alive()):
            raise AssertionError(f"while waiting for {what}: {problem}")
        try:
            result = check()
        except Exception as exc:  # a server not up yet, a row not there yet
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    details = f"\n{log()}" if log is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r}){details}")


@dataclass
class Proc:
    """A child process in its own process group, logging to a file we can show on failure."""

    name: str
    popen: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path) -> Proc:
        log = log_dir / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            argv, env=env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        return cls(name, popen, log)

    def tail(self, lines: int = 60) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def died(self) -> str | None:
        code = self.popen.poll()
        return None if code is None else f"{self.name} exited with {code}; its log ends:\n{self.tail()}"

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, then SIGKILL the whole group if it lingers. Safe to call twice."""
        if self.popen.poll() is None:
            self.kill_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self.kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
        return self.popen.returncode


def child_env(**overrides: str | None) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "saleor_support_plugin.project.settings", "PYTHONUNBUFFERED": "1"}
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def signed_webhook(recording: str, *, app_id: str = TEST_APP_ID, api_url: str = TEST_API_URL):
    """A recorded Saleor body re-addressed to ``app_id`` and signed with the test key.

    Returns (path, headers, raw_body) for an HTTP POST.
    """
    hook = recorded(recording)
    body = {**hook.body, "recipient": {**(hook.body.get("recipient") or {}), "id": app_id}}
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "Saleor-Event": hook.event.lower(),
        "Saleor-Signature": sign_detached(raw),
        "Saleor-Api-Url": api_url,
        "Saleor-Domain": api_url.split("/")[2],
        "User-Agent": "Saleor/3.24",
    }
    return "/api/webhooks/" + hook.event.lower().replace("_", "-"), headers, raw


def create_test_installation_code() -> str:
    """Python source (for ``python -c``) creating the test installation that trusts the test JWKS."""
    return (
        "import django; django.setup()\n"
        "from django.utils import timezone\n"
        "from saleor_support_plugin.crypto import token_encrypt\n"
        "from saleor_support_plugin.models import Installation\n"
        f"Installation.objects.create(saleor_api_url={TEST_API_URL!r}, app_id={TEST_APP_ID!r},\n"
        f"    domain={TEST_API_URL.split('/')[2]!r}, token_encrypted=token_encrypt('smoke-token'),\n"
        f"    jwks={test_jwks()!r}, jwks_fetched_at=timezone.now(), installed_at=timezone.now())\n"
    )
