"""``saleor-support run``: the whole app on one machine with no external service (what `make run` does).

It migrates the database (SQLite under ./var by default), then supervises two child processes: gunicorn
on 127.0.0.1:$PORT and one Celery worker with embedded beat on the broker from settings (by default
the ``filesystem://`` broker, a folder of message files under ./var/broker). SIGINT/SIGTERM are forwarded
to both; if either child dies the other is stopped too, so a half-running app never lingers.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from saleor_support_plugin.cli import EXIT_ERROR, EXIT_OK, SETTINGS_MODULE, CliError

BIND_HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 20
READY_TIMEOUT_SECONDS = 60


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        # Own process group: a terminal Ctrl-C reaches only us, and we forward it exactly once.
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True, preexec_fn=_die_with_parent)

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def kill_group(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # pgid == pid (start_new_session)
        self.process.wait()


def _die_with_parent() -> None:
    """Linux: children get SIGTERM if this supervisor is killed outright (no orphaned server)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((BIND_HOST, port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((BIND_HOST, port)) == 0


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _prepare_database() -> str:
    from django.conf import settings
    from django.core.management import call_command

    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        described = f"SQLite {db['NAME']}"
    else:
        described = f"{db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or 'local'}/{db['NAME']}"
    call_command("migrate", interactive=False, verbosity=0)
    return described


def _children(port: int, var_dir: Path) -> list[Child]:
    python = sys.executable
    web = [
        python, "-m", "gunicorn", "saleor_support_plugin.project.wsgi:application",
        "--bind", f"{BIND_HOST}:{port}",
        "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
        "--timeout", "30", "--graceful-timeout", "10",
        "--access-logfile", "-", "--name", "saleor-support-web", "--no-control-socket",
    ]  # fmt: skip
    worker = [
        python, "-m", "celery", "-A", "saleor_support_plugin.project.celery", "worker",
        "--beat", "--schedule", str(var_dir / "celerybeat-schedule"),
        "--pool", "solo", "--concurrency", "1", "--queues", "celery",
        # One local worker: no peers to gossip or synchronise with.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", os.environ.get("LOG_LEVEL", "INFO"),
    ]  # fmt: skip
    return [Child("web server", web), Child("worker", worker)]


def _banner(app_url: str, database: str, broker: str) -> str:
    lines = [
        "",
        "Saleor support app is running.",
        f"  manifest:  {app_url}/api/manifest",
        f"  database:  {database}",
        f"  broker:    {broker}",
        "Install it: Saleor Dashboard → Apps → Install external app → paste the manifest URL.",
    ]
    if _is_local(app_url):
        lines += [
            "Note: Saleor refuses to call loopback and private addresses (HTTP_IP_FILTER_ENABLED=True by default).",
            "  Hosted Saleor (Cloud): expose this port through a public tunnel and restart with",
            f"  APP_URL=https://<your-tunnel-host> (it must forward to {BIND_HOST}:<PORT>).",
            "  Self-hosted Saleor on this machine: start Saleor core with HTTP_IP_FILTER_ENABLED=False.",
        ]
    lines += ["Stop with Ctrl-C.", ""]
    return "\n".join(lines)


class _Stop:
    signum: int | None = None
    hard: bool = False

    def __call__(self, signum: int, _frame: object) -> None:
        if self.signum is None:
            self.signum = signum
        else:
            self.hard = True  # a second Ctrl-C: stop waiting for graceful shutdown


def _shutdown(children: list[Child], signum: int, stop: _Stop) -> None:
    for child in children:
        child.signal(signum)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline and not stop.hard and any(c.exit_code() is None for c in children):
        time.sleep(0.1)
    for child in children:
        child.kill_group()


def _supervise(children: list[Child], stop: _Stop, port: int, banner: str) -> int:
    announced = False
    started = time.monotonic()
    while stop.signum is None:
        for child in children:
            code = child.exit_code()
            if code is not None:
                print(f"saleor-support: {child.name} exited with code {code}; stopping", file=sys.stderr)
                _shutdown(children, signal.SIGTERM, stop)
                return 128 - code if code < 0 else (code or EXIT_ERROR)  # killed by a signal: shell style
        if not announced and _listening(port):
            print(banner, flush=True)
            announced = True
        elif not announced and time.monotonic() - started > READY_TIMEOUT_SECONDS:
            print(f"saleor-support: web server not listening on port {port} yet", file=sys.stderr)
            started = time.monotonic()
        time.sleep(0.2)
    print(f"saleor-support: stopping ({signal.Signals(stop.signum).name})", file=sys.stderr, flush=True)
    _shutdown(children, stop.signum, stop)
    return EXIT_OK


def command_run(_args: argparse.Namespace) -> int:
    from django.conf import settings

    from saleor_support_plugin.conf import support_settings

    port = int(settings.PORT)
    if not _port_free(port):
        raise CliError(f"port {port} on {BIND_HOST} is already in use; set PORT or pass --port")
    database = _prepare_database()
    var_dir = Path(settings.VAR_DIR)
    broker = settings.CELERY_BROKER_URL
    broker_text = f"filesystem ({var_dir / 'broker'})" if broker.startswith("filesystem://") else broker.split("@")[-1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)}
    env["PORT"] = str(port)
    children = _children(port, var_dir)
    stop = _Stop()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for child in children:
            child.start(env)
        return _supervise(children, stop, port, _banner(support_settings().app_url, database, broker_text))
    finally:
        for child in children:
            if child.exit_code() is None:
                child.signal(signal.SIGTERM)
        for child in children:
            child.kill_group()
