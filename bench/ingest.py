"""Webhook intake benchmark: signed Saleor webhooks against the real server, next to a bare-insert baseline.

What runs: a fresh PostgreSQL database (``support_bench``, dropped and recreated, migrated), one
Installation trusting a freshly generated RSA key, gunicorn serving the WSGI app with
``SUPPORT_BENCH_ENDPOINTS=1``, Celery publishing to Redis db 14 (flushed before and after). No Celery worker
runs: the bench plays the worker's part in the kick protocol by clearing the drain's pending flag every
``--drain-every`` seconds, as a worker starting a drain does, so the app publishes a drain message about that
often (they stay queued and are counted). The load generator is ``wrk`` (installed with apt-get when missing
and possible) replaying pre-signed requests, or a multi-process asyncio client. Server, load generator,
PostgreSQL and Redis all share this machine's cores.

Two endpoints, same bodies, same headers, same concurrency:
- verified: ``POST /api/webhooks/order-updated`` (headers, installation, JWS, recipient, dedupe insert,
  drain kick after commit); every body is distinct, so every request is a new inbox row.
- bare: ``POST /bench/bare`` (only inserts the raw body into a table the bench creates).

Rounds: after one warm-up per endpoint, ``--rounds`` rounds (default 3, smoke 1) each measure both endpoints
for ``--duration`` seconds (default 5, smoke 3), alternating the order: round 0 verified then bare, round 1
bare then verified, round 2 verified then bare, and so on, so drift on the machine and what one run leaves
behind for the next (checkpoints, autovacuum after the verified run's writes) weigh on both sides. Each
round signs its own requests (files ``run0``, ``run1``, …), so no verified request repeats across rounds;
bare replays the same round's bodies (it has no dedupe). Every measurement is checked on its own (rows
inserted against 2xx, drain messages against simulated drain starts). The verified/bare ratio is taken
per round; the headline is the median of the rounds' ratios, next to the ratio of all rounds together.
Summary per endpoint: accepted/s = all 2xx / all measured seconds, p50 and p90 = median of the rounds',
p99 = the worst round's, CPU ms/request = all CPU seconds / all requests.

Prints figures and saves them to bench/out/ (per round and summed up). It never asserts timings: the exit
status is non-zero only when the bench itself is broken (server did not start, a request was refused or
failed, rows missing, or rows left without a drain queued after them).

    python bench/ingest.py            # full run (~1-2 min): 3 rounds of 5 s per endpoint
    python bench/ingest.py --smoke    # ~30 s, what CI runs: 1 round of 3 s per endpoint
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:  # also when loaded from a file path (tests, bench/ingest_cpu.py)
    sys.path.insert(0, str(BENCH))

from benchdb import BenchBroken, recreate_database  # noqa: E402 - bench/benchdb.py

OUT = BENCH / "out"
RECORDING = ROOT / "tests" / "recordings" / "webhooks" / "ORDER_UPDATED-b2_order_charge_success_then_failure.json"

DB_NAME = "support_bench"
BARE_TABLE = "bench_bare_event"  # same name as saleor_support_plugin/webhooks/bench_views.py
BROKER_DB = 14
API_URL = "https://bench.example.com/graphql/"
APP_ID = "QXBwOjE="  # the recorded body's recipient.id
VERIFIED_PATH = "/api/webhooks/order-updated"
BARE_PATH = "/bench/bare"
CELERY_QUEUE = "celery"
# The drain's start, as saleor_support_plugin/inbox_drain.py does it: clear the pending flag (the one row of
# support_inbox_drain_state) holding the inbox lock exclusively, trying the lock until it is free (then waiting
# for it). tests/tasks/test_inbox_drain_state.py keeps these equal to the app's.
PG_TRY_CLEAR_PENDING = (
    "WITH inbox_lock AS (SELECT pg_try_advisory_xact_lock(6003663463426949720) AS locked),"
    " cleared AS (UPDATE support_inbox_drain_state SET pending_until = NULL FROM inbox_lock WHERE id = 1 AND locked)"
    " SELECT locked FROM inbox_lock"
)
PG_CLEAR_PENDING = (
    "UPDATE support_inbox_drain_state SET pending_until = NULL"
    " FROM (SELECT pg_advisory_xact_lock(6003663463426949720)) AS inbox_lock WHERE id = 1"
)
# Requests/s each round's signed set is sized for (full run, smoke); past it the verified run replays some requests.
RATE_GUESS = 2500
RATE_GUESS_SMOKE = 2500


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


# --------------------------------------------------------------------------------------------- signing


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def new_signing_key() -> tuple[bytes, dict, str]:
    """A fresh RSA-2048 key as Saleor has one: (private PEM, JWKS, kid = RFC 7638 thumbprint)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    e, n = _b64url_uint(numbers.e), _b64url_uint(numbers.n)
    kid = b64url(hashlib.sha256(json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":")).encode()).digest())
    jwks = {"keys": [{"kty": "RSA", "e": e, "n": n, "use": "sig", "kid": kid, "alg": "RS256"}]}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, jwks, kid


_SIGNER: dict = {}


def _signer_init(pem: bytes, kid: str, template: dict, host: str, start: datetime) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    header = {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": kid, "typ": "JWT"}
    _SIGNER.update(
        key=load_pem_private_key(pem, password=None),
        header_b64=b64url(json.dumps(header, separators=(",", ":")).encode()),
        template=template,
        host=host,
        start=start,
    )


def _signed_requests(first: int, count: int) -> list[bytes]:
    """Requests ``first .. first+count-1``: header lines + body, without the request line (see replay.lua)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    s = _SIGNER
    out = []
    for i in range(first, first + count):
        body = dict(s["template"])
        body["issuedAt"] = (s["start"] + timedelta(microseconds=i)).isoformat()
        order = dict(body["order"])
        order["id"] = base64.b64encode(f"Order:{uuid.uuid4()}".encode()).decode()
        body["order"] = order
        raw = json.dumps(body).encode()  # Saleor serializes with json.dumps defaults
        signing_input = s["header_b64"].encode() + b"." + raw
        sig = s["key"].sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        signature = f"{s['header_b64']}..{b64url(sig)}"
        domain = urlsplit(API_URL).netloc
        head = (
            f"Host: {s['host']}\r\n"
            "User-Agent: Saleor/3.24\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
            "Connection: keep-alive\r\nContent-Type: application/json\r\n"
            f"X-Saleor-Event: order_updated\r\nX-Saleor-Domain: {domain}\r\nX-Saleor-Signature: {signature}\r\n"
            f"Saleor-Event: order_updated\r\nSaleor-Domain: {domain}\r\nSaleor-Signature: {signature}\r\n"
            f"Saleor-Api-Url: {API_URL}\r\nContent-Length: {len(raw)}\r\n\r\n"
        )
        out.append(head.encode() + raw)
    return out


class RequestFactory:
    """Signs distinct Saleor-like requests in a process pool; indices never repeat within one run."""

    def __init__(self, pem: bytes, kid: str, host: str, procs: int) -> None:
        template = json.loads(RECORDING.read_text())["body"]
        start = datetime.now(UTC).replace(microsecond=0)
        self.pool = ProcessPoolExecutor(
            max_workers=procs,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_signer_init,
            initargs=(pem, kid, template, host, start),
        )
        self.procs = procs
        self.next_index = 0

    def submit(self, count: int) -> list:
        """Start signing ``count`` new requests; pass the result to ``collect``."""
        chunk = max(1, math.ceil(count / (self.procs * 4)))
        starts = range(self.next_index, self.next_index + count, chunk)
        futures = [self.pool.submit(_signed_requests, s, min(chunk, self.next_index + count - s)) for s in starts]
        self.next_index += count
        return futures

    @staticmethod
    def collect(futures: list) -> list[bytes]:
        return [r for f in futures for r in f.result()]

    def make(self, count: int) -> list[bytes]:
        return self.collect(self.submit(count))

    def close(self) -> None:
        self.pool.shutdown()


def write_request_files(requests: list[bytes], parts: int, directory: Path, name: str) -> Path:
    """Split round-robin into ``<prefix>.0 .. <prefix>.<parts-1>``, one per load-generator thread/process."""
    prefix = directory / name
    for p in range(parts):
        with open(f"{prefix}.{p}", "wb") as fh:
            for r in requests[p::parts]:
                fh.write(b"%d\n" % len(r))
                fh.write(r)
    return prefix


def read_request_file(path: str) -> list[bytes]:
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        n = int(data[pos:nl])
        out.append(data[nl + 1 : nl + 1 + n])
        pos = nl + 1 + n
    return out


# ---------------------------------------------------------------------------------------- services


def pg_connect(base_url: str, dbname: str):
    import psycopg

    return psycopg.connect(f"{base_url}/{dbname}", autocommit=True, connect_timeout=5)


def drop_database(base_url: str) -> None:
    try:
        with pg_connect(base_url, "postgres") as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    except Exception as exc:  # noqa: BLE001 - cleanup must not hide the result
        log(f"could not drop {DB_NAME}: {exc}")


def table_count(base_url: str, table: str) -> int:
    with pg_connect(base_url, DB_NAME) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def settle(base_url: str, table: str, timeout: float = 15.0) -> int:
    """Row count once requests still queued in the server have landed (unchanged for 0.5 s)."""
    deadline = time.monotonic() + timeout
    last = table_count(base_url, table)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = table_count(base_url, table)
        if now == last:
            break
        last = now
    return last


def redis_client():
    import redis

    return redis.Redis(host="127.0.0.1", port=6379, db=BROKER_DB, socket_timeout=5)


def queued_tasks() -> int:
    return redis_client().llen(CELERY_QUEUE)


class DrainFlag:
    """Clears the drain's pending flag as a drain does when it starts (``inbox_drain_pending_clear``): one statement
    that holds the inbox lock exclusively, so it commits after the webhook inserts in flight."""

    def __init__(self, base_url: str) -> None:
        self.conn = pg_connect(base_url, DB_NAME)

    def clear(self, patience: float = 2.0) -> None:
        deadline, pause = time.monotonic() + patience, 0.001
        while time.monotonic() < deadline:
            if self.conn.execute(PG_TRY_CLEAR_PENDING).fetchone()[0]:
                return
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        self.conn.execute(PG_CLEAR_PENDING)

    def close(self) -> None:
        self.conn.close()


class DrainStarts:
    """Stand-in for the worker: clears the drain's pending flag every ``interval`` s, as each drain does when it
    starts, so the app publishes a new drain for the next row after it (0: never, one publish per flag TTL)."""

    def __init__(self, interval: float, base_url: str) -> None:
        import threading

        self.interval, self.base_url, self.count = interval, base_url, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True) if interval > 0 else None

    def _run(self) -> None:
        import psycopg

        flag = DrainFlag(self.base_url)
        try:
            while not self._stop.wait(self.interval):
                try:
                    flag.clear()
                except psycopg.Error as exc:  # as a drain does: the flag lapses by itself
                    log(f"simulated drain start failed: {exc}")
                    continue
                self.count += 1
        finally:
            flag.close()

    def __enter__(self) -> DrainStarts:
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def server_env(base_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="saleor_support_plugin.project.settings",
        DATABASE_URL=f"{base_url}/{DB_NAME}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{BROKER_DB}",
        CELERY_TASK_ALWAYS_EAGER="0",
        SUPPORT_BENCH_ENDPOINTS="1",
        DEBUG="0",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def prepare_database(base_url: str, jwks: dict) -> None:
    env = server_env(base_url)
    recreate_database(admin_url=f"{base_url}/postgres", name=DB_NAME, env=env)
    seed = json.dumps({"api_url": API_URL, "app_id": APP_ID, "jwks": jwks})
    run = subprocess.run(
        [sys.executable, str(BENCH / "seed.py"), seed], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if run.returncode:
        raise BenchBroken(f"seeding the installation failed:\n{run.stderr}")
    with pg_connect(base_url, DB_NAME) as conn:
        conn.execute(
            f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, raw_body text NOT NULL,"
            " received_at timestamptz NOT NULL DEFAULT now())"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Django imports the URLconf (and with it GraphQL, OpenAI, …: seconds of CPU) on a worker's first request. With
# keep-alive connections one worker can take all of the warm-up's, and the other would then import inside a
# measurement. So every worker imports it before it serves, and says so with a file in BENCH_READY_DIR.
GUNICORN_HOOKS = """
import os
from pathlib import Path


def post_worker_init(worker):
    from django.urls import get_resolver

    get_resolver().url_patterns
    (Path(os.environ["BENCH_READY_DIR"]) / str(os.getpid())).touch()
"""


class Server:
    def __init__(self, base_url: str, port: int, worker_class: str, workers: int, threads: int, log_path: Path):
        self.port, self.workers = port, workers
        self.ready_dir = log_path.parent / "ready"
        self.ready_dir.mkdir(exist_ok=True)
        hooks = log_path.parent / "gunicorn_hooks.py"
        hooks.write_text(GUNICORN_HOOKS)
        self.cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--backlog",
            "4096",
            "--worker-tmp-dir",
            "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir(),
            "--log-level",
            "warning",
            "--config",
            str(hooks),
            "saleor_support_plugin.project.wsgi:application",
        ]
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**server_env(base_url), "BENCH_READY_DIR": str(self.ready_dir)}
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchBroken(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(list(self.ready_dir.iterdir())) >= self.workers:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchBroken(f"server not ready after {timeout:.0f} s:\n{self.tail()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------------------- load generators


def ensure_wrk(allow_install: bool) -> str | None:
    path = shutil.which("wrk")
    if path or not allow_install:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("wrk not found and cannot apt-get install it: using the Python client")
        return None
    log("wrk not found: apt-get install -y wrk")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "install", "-y", "-qq", "wrk"],
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "wrk"],
    ):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log(f"{' '.join(cmd)} failed: {exc}")
        if shutil.which("wrk"):
            break
    path = shutil.which("wrk")
    if not path:
        log("wrk install failed: using the Python client")
    return path


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split(" [")[0] if first else "wrk"


def run_wrk(wrk: str, port: int, path: str, prefix: Path, threads: int, connections: int, seconds: float) -> dict:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "replay.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        path,
        str(prefix),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", out.stdout, re.M)
    if out.returncode or not match:
        raise BenchBroken(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    r = json.loads(match.group(1))
    errors = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_status"] + r["err_timeout"]
    return {
        "issued": r["issued"],  # request() calls: includes one wrk makes to check the script
        "completed": r["requests"],
        "ok_2xx": r["requests"] - r["err_status"],
        "non_2xx": r["err_status"],
        "socket_errors": errors - r["err_status"],
        "errors": errors,
        "seconds": r["duration_us"] / 1e6,
        "p50_ms": r["p50_us"] / 1000,
        "p90_ms": r["p90_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "max_ms": r["max_us"] / 1000,
        "mean_ms": r["mean_us"] / 1000,
        "distinct_loaded": r["loaded"],
        "wrapped": r["wraps"] > 0,
    }


async def _py_connection(port: int, reqs: list[bytes], cursor: list[int], deadline: float, stats: dict) -> None:
    reader = writer = None
    while time.perf_counter() < deadline:
        req = reqs[cursor[0] % len(reqs)]
        if cursor[0] >= len(reqs):
            stats["wrapped"] = True
        cursor[0] += 1
        t0 = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(req)
            status_line = await asyncio.wait_for(reader.readline(), 10)
            if not status_line:
                raise ConnectionError("server closed the connection")
            status = int(status_line.split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            stats["socket_errors"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        stats["latencies"].append(time.perf_counter() - t0)
        stats["ok_2xx" if 200 <= status < 300 else "non_2xx"] += 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _py_client_proc(port: int, path: str, file: str, connections: int, seconds: float, start_at: float) -> dict:
    line = f"POST {path} HTTP/1.1\r\n".encode()
    reqs = [line + r for r in read_request_file(file)]
    stats = {"latencies": [], "ok_2xx": 0, "non_2xx": 0, "socket_errors": 0, "wrapped": False}
    cursor = [0]

    async def main() -> None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_py_connection(port, reqs, cursor, deadline, stats) for _ in range(connections)))

    asyncio.run(main())
    stats["issued"] = cursor[0]
    stats["loaded"] = len(reqs)
    return stats


def run_python_client(port: int, path: str, prefix: Path, procs: int, connections: int, seconds: float) -> dict:
    per_proc = [connections // procs + (1 if p < connections % procs else 0) for p in range(procs)]
    start_at = time.time() + 0.5
    with ProcessPoolExecutor(max_workers=procs, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [
            pool.submit(_py_client_proc, port, path, f"{prefix}.{p}", per_proc[p], seconds, start_at)
            for p in range(procs)
        ]
        parts = [f.result() for f in futures]
    lat = sorted(x for p in parts for x in p["latencies"])

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q / 100 * len(lat)))] * 1000 if lat else 0.0

    ok, bad, sock = (sum(p[k] for p in parts) for k in ("ok_2xx", "non_2xx", "socket_errors"))
    return {
        "issued": sum(p["issued"] for p in parts),
        "completed": ok + bad,
        "ok_2xx": ok,
        "non_2xx": bad,
        "socket_errors": sock,
        "errors": bad + sock,
        "seconds": seconds,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": lat[-1] * 1000 if lat else 0.0,
        "mean_ms": sum(lat) / len(lat) * 1000 if lat else 0.0,
        "distinct_loaded": sum(p["loaded"] for p in parts),
        "wrapped": any(p["wrapped"] for p in parts),
    }


def post_raw(port: int, path: str, raw: bytes, body: bytes | None = None) -> tuple[int, dict]:
    """POST one pre-built request (header lines + body) with http.client; optionally swap the body."""
    import http.client

    head, original = raw.split(b"\r\n\r\n", 1)
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=original if body is None else body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(data or b"{}")
    except ValueError:
        return response.status, {}


def sanity_checks(port: int, fresh: bytes, base_url: str) -> list[str]:
    """After the load, on the same server: with no drain pending, a new webhook is accepted with one row and
    one drain published; its replay is answered "duplicate" and a tampered copy is refused with 401
    (neither adds a row or a message)."""
    problems = []

    def state() -> tuple[int, int]:
        return table_count(base_url, "support_webhook_event"), queued_tasks()

    flag = DrainFlag(base_url)
    try:
        flag.clear()  # as a drain starting now would
    finally:
        flag.close()
    rows, tasks = state()
    status, answer = post_raw(port, VERIFIED_PATH, fresh)
    if status != 200 or answer.get("status") != "accepted" or state() != (rows + 1, tasks + 1):
        problems.append(f"new webhook: expected 200 accepted + 1 row + 1 drain, got {status} {answer} {state()}")
    rows, tasks = state()
    status, answer = post_raw(port, VERIFIED_PATH, fresh)
    if status != 200 or answer.get("status") != "duplicate":
        problems.append(f"replayed webhook: expected 200 duplicate, got {status} {answer}")
    body = fresh.split(b"\r\n\r\n", 1)[1]
    tampered = body.replace(b'"version": "3.24.0-a.0"', b'"version": "3.24.0-a.1"', 1)
    status, answer = post_raw(port, VERIFIED_PATH, fresh, body=tampered)
    if tampered == body or status != 401:
        problems.append(f"tampered webhook: expected 401, got {status} {answer}")
    if state() != (rows, tasks):
        problems.append("a replayed or tampered webhook changed the inbox or the queue")
    return problems


# ---------------------------------------------------------------------------------------- the run


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="small and quick (CI): checks the bench works")
    p.add_argument("--duration", type=float, help="seconds per endpoint per round (default 5, smoke 3)")
    p.add_argument(
        "--rounds", type=int, help="rounds, each measuring both endpoints in alternating order (default 3, smoke 1)"
    )
    p.add_argument("--warmup", type=float, help="warm-up seconds per endpoint (default 3, smoke 1)")
    p.add_argument("--connections", type=int, default=8, help="concurrent client connections (default 8)")
    p.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--client-threads", type=int, help="wrk threads (default 1) / Python client processes (default 2)")
    p.add_argument("--worker-class", default="gthread", help="gunicorn worker class (default gthread; or sync)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4: two per core)")
    p.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
    p.add_argument("--requests", type=int, help="distinct signed requests per round (default: sized from --duration)")
    p.add_argument("--only", choices=["verified", "bare"], help="run one endpoint only")
    p.add_argument(
        "--drain-every",
        type=float,
        default=0.1,
        help="seconds between simulated drain starts (default 0.1; 0 = no worker at all)",
    )
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    p.add_argument("--keep-db", action="store_true", help=f"leave {DB_NAME} in place afterwards")
    p.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    args = p.parse_args()
    args.duration = args.duration or (3.0 if args.smoke else 5.0)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.smoke else 3)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.smoke else 3.0)
    return args


def check_services(base_url: str) -> None:
    try:
        with pg_connect(base_url, "postgres") as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        raise BenchBroken(f"PostgreSQL not reachable at {base_url}: {exc} (try `make services`)") from exc
    try:
        redis_client().ping()
    except Exception as exc:
        raise BenchBroken(f"Redis not reachable at 127.0.0.1:6379: {exc} (try `make services`)") from exc


# ---------------------------------------------------------------------------------------- CPU accounting

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """utime + stime of one process in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _machine_busy() -> float:
    """Seconds of CPU spent not idle, all CPUs together, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK


class CpuMeter:
    """CPU used during one phase by the server, PostgreSQL backends of the bench DB, Redis, client, machine."""

    def __init__(self, base_url: str, server_pid: int) -> None:
        self.base_url, self.server_pid = base_url, server_pid
        self.available = Path("/proc/stat").exists()

    def _snapshot(self) -> dict:
        with pg_connect(self.base_url, "postgres") as conn:
            pg_pids = [
                r[0]
                for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [DB_NAME]
                )
            ]
        redis_pid = int(redis_client().info("server").get("process_id", 0))
        children = os.times()
        return {
            "server": {p: _proc_cpu(p) for p in [self.server_pid, *_children(self.server_pid)]},
            "postgres": {p: _proc_cpu(p) for p in pg_pids},
            "redis": _proc_cpu(redis_pid) if redis_pid else 0.0,
            "client": children.children_user
            + children.children_system
            + sum(_proc_cpu(p) for p in _children(os.getpid())),
            "machine": _machine_busy(),
            "wall": time.monotonic(),
        }

    def start(self) -> None:
        self.before = self._snapshot() if self.available else None

    def stop(self, requests: int) -> dict:
        if not self.before:
            return {}
        after, before = self._snapshot(), self.before

        def delta(kind: str) -> float:
            return sum(v - before[kind].get(p, 0.0) for p, v in after[kind].items())

        return cpu_figures(
            [
                {
                    "requests": requests,
                    "used_s": {
                        "server": delta("server"),
                        "postgres": delta("postgres"),
                        "redis": after["redis"] - before["redis"],
                        "client": after["client"] - before["client"],
                    },
                    "wall_s": after["wall"] - before["wall"],
                    "machine_s": after["machine"] - before["machine"],
                }
            ]
        )


def cpu_figures(parts: list[dict]) -> dict:
    """CPU figures of one or more measurements together: their CPU seconds per process group summed, divided by
    their requests summed (so rounds are weighted by requests). Keeps the sums, so a result can be summed again."""
    requests = sum(c["requests"] for c in parts)
    used = {k: sum(c["used_s"][k] for c in parts) for k in ("server", "postgres", "redis", "client")}
    wall = sum(c["wall_s"] for c in parts)
    machine = sum(c["machine_s"] for c in parts)
    per_req = {f"{k}_ms_per_req": v / requests * 1000 if requests else 0.0 for k, v in used.items()}
    total_ms = sum(per_req.values())
    return {
        **per_req,
        # What the cores could do if nothing else ran: an estimate, not a measurement.
        "cpu_bound_ceiling_per_s": (os.cpu_count() or 1) * 1000 / total_ms if total_ms else 0.0,
        "cores_busy": machine / wall if wall else 0.0,
        "cores_busy_other": max(0.0, machine - sum(used.values())) / wall if wall else 0.0,
        "requests": requests,
        "used_s": used,
        "wall_s": wall,
        "machine_s": machine,
    }


def measure(args, client: dict, port: int, path: str, prefix: Path, seconds: float) -> dict:
    if client["name"] == "wrk":
        return run_wrk(client["path"], port, path, prefix, args.client_threads, args.connections, seconds)
    return run_python_client(port, path, prefix, args.client_threads, args.connections, seconds)


def measure_endpoint(args, client: dict, port: int, server: Server, name: str, prefix: Path, label: str) -> tuple:
    """One measurement of one endpoint, checked on its own: (result, problems). Row and message counts are
    taken before and after it, so they belong to this measurement only."""
    base_url = args.pg.rstrip("/")
    path, table = {"verified": (VERIFIED_PATH, "support_webhook_event"), "bare": (BARE_PATH, BARE_TABLE)}[name]
    problems: list[str] = []
    before_rows = settle(base_url, table)
    before_tasks = queued_tasks()
    log(f"{label}: measuring {name}: {args.connections} connections for {args.duration:.0f} s")
    meter = CpuMeter(base_url, server.proc.pid)
    with DrainStarts(args.drain_every if name == "verified" else 0, base_url) as drains:
        meter.start()
        r = measure(args, client, port, path, prefix, args.duration)
        r["cpu"] = meter.stop(r["completed"])
    # Requests still in flight when the client stopped may land a moment later.
    rows = settle(base_url, table) - before_rows
    queued = queued_tasks()
    r["rows_inserted"] = rows
    r["tasks_enqueued"] = queued - before_tasks
    r["drain_starts_simulated"] = drains.count
    r["accepted_per_s"] = r["ok_2xx"] / r["seconds"] if r["seconds"] else 0.0
    if r["non_2xx"] or r["socket_errors"]:
        problems.append(f"{label} {name}: {r['non_2xx']} non-2xx responses, {r['socket_errors']} socket errors")
    if r["ok_2xx"] == 0:
        problems.append(f"{label} {name}: no request accepted")
    if r["wrapped"]:
        log(f"note: {label} {name} replayed its {r['distinct_loaded']} requests more than once")
    # Every 2xx is a row; rows may exceed them by what was in flight when the client stopped.
    in_flight = args.connections + r["socket_errors"]
    if r["wrapped"] and name == "verified":
        low, high = 1, r["distinct_loaded"]  # repeats are answered "duplicate" and add nothing
    else:
        low, high = r["ok_2xx"], r["ok_2xx"] + in_flight
    if not low <= rows <= high:
        problems.append(f"{label} {name}: {rows} rows inserted for {r['ok_2xx']} accepted responses")
    # Coalesced: at most one drain per simulated drain start (+ one per flag expiry), and never none while rows
    # wait: the rows committed after the last drain start kicked one (in this measurement, once a drain started
    # in it: earlier rounds' messages stay queued).
    most = drains.count + 1 + args.duration / 30
    none_kicked = queued == 0 or (drains.count > 0 and r["tasks_enqueued"] == 0)
    if name == "verified" and rows and (none_kicked or r["tasks_enqueued"] > most):
        problems.append(
            f"{label} verified: {r['tasks_enqueued']} drains enqueued for {rows} new inbox rows"
            f" and {drains.count} drain starts"
        )
    return r, problems


def summarize(runs: list[dict]) -> dict:
    """One endpoint over all rounds: counts and seconds summed (accepted/s = all 2xx / all seconds), p50 and
    p90 the median of the rounds', p99 the worst round's, max the max, CPU per request over all requests."""
    out = {k: sum(r[k] for r in runs) for k in ("issued", "completed", "ok_2xx", "non_2xx", "socket_errors")}
    out["errors"] = sum(r["errors"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    completed = out["completed"]
    out.update(
        seconds=seconds,
        p50_ms=statistics.median(r["p50_ms"] for r in runs),
        p90_ms=statistics.median(r["p90_ms"] for r in runs),
        p99_ms=max(r["p99_ms"] for r in runs),
        max_ms=max(r["max_ms"] for r in runs),
        mean_ms=sum(r["mean_ms"] * r["completed"] for r in runs) / completed if completed else 0.0,
        distinct_loaded=sum(r["distinct_loaded"] for r in runs),
        wrapped=any(r["wrapped"] for r in runs),
    )
    cpus = [r["cpu"] for r in runs if r.get("cpu")]
    out["cpu"] = cpu_figures(cpus) if cpus else {}
    for k in ("rows_inserted", "tasks_enqueued", "drain_starts_simulated"):
        out[k] = sum(r[k] for r in runs)
    out["accepted_per_s"] = out["ok_2xx"] / seconds if seconds else 0.0
    out["rounds"] = len(runs)
    return out


def format_rows(rows: list[tuple], left: int = 1) -> str:
    """Aligned columns: the first ``left`` ones to the left, the others (figures) to the right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def rounds_table(rounds: list[dict]) -> str:
    """One row per measurement, in the order they ran; a round's ratio on its last row."""
    rows = [("round", "endpoint", "accepted/s", "p50 ms", "p99 ms", "verified/bare")]
    for rec in rounds:
        names = [n for n in rec["order"] if n in rec["results"]]
        for j, name in enumerate(names):
            r = rec["results"][name]
            ratio = rec.get("ratio") if j == len(names) - 1 else None
            rows.append(
                (
                    str(rec["round"]),
                    name,
                    f"{r['accepted_per_s']:.0f}",
                    f"{r['p50_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    f"{ratio:.2f}" if ratio is not None else "",
                )
            )
    return format_rows(rows, left=2)


def summary_table(results: dict) -> str:
    rows = [("endpoint", "requests", "2xx", "errors", "accepted/s", "p50 ms", "p90 ms", "p99 ms", "max ms")]
    for name in ("verified", "bare"):
        r = results.get(name)
        if r:
            rows.append(
                (
                    name,
                    str(r["completed"]),
                    str(r["ok_2xx"]),
                    str(r["errors"]),
                    f"{r['accepted_per_s']:.0f}",
                    f"{r['p50_ms']:.1f}",
                    f"{r['p90_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    f"{r['max_ms']:.1f}",
                )
            )
    return format_rows(rows)


def main() -> int:  # noqa: C901 - a linear script reads best in one place
    args = parse_args()
    mode = "smoke" if args.smoke else "full"
    OUT.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    result: dict = {"mode": mode, "started_at": started.isoformat(), "problems": []}
    problems: list[str] = result["problems"]
    server = factory = None
    workdir = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    base_url = args.pg.rstrip("/")
    try:
        check_services(base_url)
        wrk = None if args.client == "python" else ensure_wrk(allow_install=not args.no_install)
        if args.client == "wrk" and not wrk:
            raise BenchBroken("--client wrk but wrk is not available")
        client = {"name": "wrk", "path": wrk, "version": wrk_version(wrk)} if wrk else {"name": "python-asyncio"}
        parts = args.client_threads = args.client_threads or (1 if wrk else 2)

        pem, jwks, kid = new_signing_key()
        port = free_port()
        factory = RequestFactory(pem, kid, f"127.0.0.1:{port}", procs=os.cpu_count() or 2)
        # Per round, enough distinct requests for RATE_GUESS/s; a faster server replays some of its round's
        # (reported, then duplicates). Rounds never share requests: each has its own files run0, run1, ...
        n = (
            args.requests
            or int((RATE_GUESS_SMOKE if args.smoke else RATE_GUESS) * args.duration) + 50 * args.connections
        )
        n_warm = max(200, int(500 * args.warmup)) if args.warmup > 0 else 0
        log(
            f"database {DB_NAME}: recreate, migrate, seed one installation with a fresh RSA-2048 key;"
            f" meanwhile sign {n_warm} + {args.rounds} x {n} distinct requests"
        )
        t0 = time.perf_counter()
        warm_futures = factory.submit(n_warm)
        round_futures = [factory.submit(n) for _ in range(args.rounds)]
        prepare_database(base_url, jwks)
        redis_client().flushdb()
        warm = factory.collect(warm_futures)
        prefixes = []
        for i in range(args.rounds):
            futures, round_futures[i] = round_futures[i], []  # let each round's requests go once written
            prefixes.append(write_request_files(factory.collect(futures), parts, workdir, f"run{i}"))
        del futures
        log(f"database ready and requests signed in {time.perf_counter() - t0:.1f} s")
        gunicorn_version = subprocess.run(
            [sys.executable, "-m", "gunicorn", "--version"], capture_output=True, text=True
        ).stdout.strip()
        server_cfg = {
            "server": gunicorn_version or "gunicorn",
            "worker_class": args.worker_class,
            "workers": args.workers,
            "threads": args.threads,
            "database_conn_max_age": os.environ.get("DATABASE_CONN_MAX_AGE", "60 (default)"),
            "broker": f"redis://127.0.0.1:6379/{BROKER_DB}",
        }
        client_cfg = {
            **client,
            "threads_or_procs": parts,
            "connections": args.connections,
            "rounds": args.rounds,
            "seconds_per_endpoint": args.duration,  # per round
            "warmup_seconds": args.warmup,
        }
        client_cfg.pop("path", None)
        result.update(
            server=server_cfg,
            client=client_cfg,
            machine={"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        )
        log(
            f"server: {server_cfg['server']} worker_class={args.worker_class} workers={args.workers} "
            f"threads={args.threads} on 127.0.0.1:{port}"
        )
        server = Server(base_url, port, args.worker_class, args.workers, args.threads, workdir / "server.log")
        server.wait_ready()

        endpoints = [e for e in ("verified", "bare") if args.only in (None, e)]
        paths = {"verified": VERIFIED_PATH, "bare": BARE_PATH}
        tables = {"verified": "support_webhook_event", "bare": BARE_TABLE}

        # Warm-up: imports, DB connections, caches, first calls.
        if warm:
            warm_prefix = write_request_files(warm, parts, workdir, "warm")
            for name in endpoints:
                r = measure(args, client, port, paths[name], warm_prefix, args.warmup)
                rate = r["ok_2xx"] / r["seconds"] if r["seconds"] else 0
                log(f"warm-up {name}: {r['ok_2xx']} ok, {r['errors']} errors, {rate:.0f}/s")
                if r["non_2xx"] or r["socket_errors"]:
                    problems.append(f"warm-up {name}: {r['non_2xx']} non-2xx, {r['socket_errors']} socket errors")
            if problems:
                raise BenchBroken("; ".join(problems) + f"\nserver log:\n{server.tail()}")
            for name in endpoints:
                settle(base_url, tables[name])

        # Rounds in alternating order (verified first in even rounds, bare first in odd ones). Bare replays the
        # round's own files too: it has no dedupe, and the verified run of that round never sees bare's rows.
        rounds: list[dict] = []
        result["rounds"] = rounds  # saved as far as they got, should a round break the bench
        for i, prefix in enumerate(prefixes):
            order = endpoints if i % 2 == 0 else endpoints[::-1]
            rec: dict = {"round": i, "order": order, "results": {}, "ratio": None}
            rounds.append(rec)
            for name in order:
                r, found = measure_endpoint(args, client, port, server, name, prefix, f"round {i}")
                rec["results"][name] = r
                problems.extend(found)
            v, b = rec["results"].get("verified"), rec["results"].get("bare")
            if v and b and b["accepted_per_s"]:
                rec["ratio"] = v["accepted_per_s"] / b["accepted_per_s"]
        results = {name: summarize([rec["results"][name] for rec in rounds]) for name in endpoints}
        if "verified" in results and results["verified"]["ok_2xx"]:
            found = sanity_checks(port, factory.make(1)[0], base_url)
            result["sanity"] = found or "ok"
            problems.extend(found)
            log("sanity: replayed webhooks answered duplicate, tampered one refused" if not found else str(found))
        if not server.alive():
            problems.append("server died during the run")
        result["results"] = results
        ratios = [rec["ratio"] for rec in rounds if rec["ratio"] is not None]
        result["ratio"] = statistics.median(ratios) if ratios else None
        if "verified" in results and "bare" in results and results["bare"]["accepted_per_s"]:
            result["ratio_all_rounds"] = results["verified"]["accepted_per_s"] / results["bare"]["accepted_per_s"]
        else:
            result["ratio_all_rounds"] = None
    except BenchBroken as exc:
        problems.append(str(exc))
    finally:
        if server is not None:
            server.stop()
        if factory is not None:
            factory.close()
        try:
            redis_client().flushdb()
        except Exception as exc:  # noqa: BLE001
            log(f"could not flush redis db {BROKER_DB}: {exc}")
        if not args.keep_db:
            drop_database(base_url)
        shutil.rmtree(workdir, ignore_errors=True)

    result["finished_at"] = datetime.now(UTC).isoformat()
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out_file = OUT / f"ingest-{mode}-{stamp}.json"
    out_file.write_text(json.dumps(result, indent=2) + "\n")
    (OUT / f"ingest-{mode}-latest.json").write_text(json.dumps(result, indent=2) + "\n")

    print()
    if "server" in result:
        s, c = result["server"], result["client"]
        print(
            f"server: {s['server']}, {s['worker_class']} workers={s['workers']} threads={s['threads']}, "
            f"DATABASE_CONN_MAX_AGE={s['database_conn_max_age']}, broker {s['broker']}"
        )
        print(
            f"client: {c.get('version') or c['name']} x{c['threads_or_procs']}, {c['connections']} connections, "
            f"{c['rounds']} round(s) of {c['seconds_per_endpoint']:.0f} s per endpoint (order alternating)"
            f" after {c['warmup_seconds']:.0f} s warm-up"
        )
        print(f"machine: {os.cpu_count()} CPUs shared by server, client, PostgreSQL and Redis")
    rounds = [rec for rec in result.get("rounds", []) if rec["results"]]
    if rounds:
        print(rounds_table(rounds))
        print()
    if result.get("results"):
        print(summary_table(result["results"]))
        if result.get("ratio") is not None:
            listed = ", ".join(f"{rec['ratio']:.2f}" for rec in rounds if rec["ratio"] is not None)
            print(
                f"verified / bare accepted/s: median of rounds {result['ratio']:.2f} (rounds: {listed});"
                f" all rounds together {result['ratio_all_rounds']:.2f}"
            )
        for name, r in result["results"].items():
            c = r.get("cpu")
            if c:
                print(
                    f"{name} CPU ms/request (all rounds): server {c['server_ms_per_req']:.2f},"
                    f" postgres {c['postgres_ms_per_req']:.2f},"
                    f" redis {c['redis_ms_per_req']:.2f}, client {c['client_ms_per_req']:.2f};"
                    f" cores busy {c['cores_busy']:.2f} (of which not ours {c['cores_busy_other']:.2f});"
                    f" ceiling {c['cpu_bound_ceiling_per_s']:.0f}/s"
                )
        other = max(
            (r.get("cpu") or {}).get("cores_busy_other", 0.0) for rec in rounds for r in rec["results"].values()
        )
        if other > 0.15:
            print(
                f"WARNING: processes outside the bench used up to {other:.2f} of the {os.cpu_count()} cores during"
                " a measurement; these figures understate what the machine can do alone."
            )
        v = result["results"].get("verified")
        if v:
            print(
                f"verified: {v['rows_inserted']} inbox rows, {v['tasks_enqueued']} drain messages enqueued"
                f" ({v.get('drain_starts_simulated', 0)} drain starts simulated, --drain-every {args.drain_every} s)"
            )
    print(f"saved {out_file.relative_to(ROOT)}")
    return exit_status(problems)


def exit_status(problems: list[str]) -> int:
    """1 when the bench is broken (and why, on stderr); timings never fail it."""
    if problems:
        print("\nBENCH BROKEN:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
