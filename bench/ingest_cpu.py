"""Webhook intake, CPU per request: where a verified webhook spends what the bare insert does not.

``bench/ingest.py`` measures throughput under load, with server, client, PostgreSQL and Redis sharing two
cores, and on this VM its figures move ±20 % between identical runs. This script takes the HTTP server and
the load generator out: it calls the production WSGI application (the webhook fast path) in this process,
one request at a time, against a fresh PostgreSQL database (``support_bench_cpu``, dropped afterwards) and
the Redis broker of ingest.py, and measures for each request the CPU of this process (Python), of its
PostgreSQL backend (``/proc/<pid>/schedstat``) and of Redis (``INFO cpu``). Same signed bodies and headers as
ingest.py; every verified request is a new inbox row. Rounds alternate verified and bare.

Under load the machine is CPU-bound, so verified/bare accepted/s in ingest.py tends to the inverse of these
totals plus the HTTP server's own cost per request (the same for both endpoints). It also times the
Python steps of the verified path on their own (signature, JSON parse, dedupe hash, the whole verification).

    python bench/ingest_cpu.py            # 3 rounds of 2,000 requests per endpoint (~1 min)
    python bench/ingest_cpu.py --smoke    # 1 round of 300 (CI)

Prints a table and saves bench/out/ingest-cpu-{full,smoke}-latest.json. Exit status non-zero only when the
bench is broken (a request was not answered 2xx, rows missing); timings are never asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import ingest  # noqa: E402 - bench/ingest.py: database, signing, settings shared with the load test

DB_NAME = "support_bench_cpu"
ingest.DB_NAME = DB_NAME  # its database helpers read this global


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="one small round (CI): checks the bench works")
    p.add_argument("--rounds", type=int, help="rounds, each verified then bare or the other way (default 3)")
    p.add_argument("--requests", type=int, help="requests per endpoint per round (default 2000, smoke 300)")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    args = p.parse_args()
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.requests = args.requests or (300 if args.smoke else 2000)
    return args


def wsgi_environ(raw: bytes, path: str) -> dict:
    """The WSGI environ gunicorn would build for this pre-signed request (header lines + body)."""
    head, body = raw.split(b"\r\n\r\n", 1)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(body),
    }
    for line in head.decode().split("\r\n"):
        name, value = line.split(": ", 1)
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_LENGTH", "CONTENT_TYPE") else "HTTP_" + key] = value
    return environ


class Meter:
    """CPU seconds of this process, its PostgreSQL backend and Redis."""

    def __init__(self, redis_client) -> None:
        self.redis = redis_client

    @staticmethod
    def _backend_seconds() -> float:
        from django.db import connection

        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9

    def _redis_seconds(self) -> float:
        info = self.redis.info("cpu")
        return info["used_cpu_sys"] + info["used_cpu_user"]

    def snapshot(self) -> tuple[float, float, float, float]:
        return time.process_time(), self._backend_seconds(), self._redis_seconds(), time.perf_counter()


def measure(application, meter: Meter, environs: list[dict]) -> dict:
    statuses: list[str] = []

    def start_response(status, headers):
        statuses.append(status)

    before = meter.snapshot()
    for environ in environs:
        application(environ, start_response)
    after = meter.snapshot()
    n = len(environs)
    python, postgres, redis, wall = ((a - b) / n * 1e6 for a, b in zip(after, before, strict=True))
    return {
        "requests": n,
        "not_2xx": sum(not s.startswith("2") for s in statuses),
        "python_us": python,
        "postgres_us": postgres,
        "redis_us": redis,
        "total_us": python + postgres + redis,
        "wall_us": wall,
    }


def step_costs(raw_requests: list[bytes]) -> dict:
    """µs of Python per request for the steps of the verified path, each on its own."""
    from saleor_support_plugin.saleor.auth import jws_verify_detached
    from saleor_support_plugin.services.inbox import webhook_dedupe_key
    from saleor_support_plugin.webhooks.intake import EnvironHeaders
    from saleor_support_plugin.webhooks.registry import spec_for_path
    from saleor_support_plugin.webhooks.verification import _parse_body, verify_saleor_webhook

    spec = spec_for_path(ingest.VERIFIED_PATH.rsplit("/", 1)[1])
    items = []
    for raw in raw_requests:
        environ = wsgi_environ(raw, ingest.VERIFIED_PATH)
        items.append((EnvironHeaders(environ), environ["wsgi.input"].read()))
    verified = verify_saleor_webhook(headers=items[0][0], raw_body=items[0][1], spec=spec)
    jwks = verified.installation.jwks

    def timed(step) -> float:
        start = time.process_time()
        for headers, body in items:
            step(headers, body)
        return (time.process_time() - start) / len(items) * 1e6

    return {
        "signature (RS256 verify)": timed(
            lambda h, b: jws_verify_detached(signature=h.get("Saleor-Signature"), raw_body=b, jwks=jwks)
        ),
        "JSON parse": timed(lambda h, b: _parse_body(b)),
        "dedupe hash": timed(
            lambda h, b: webhook_dedupe_key(api_url=ingest.API_URL, event_type="ORDER_UPDATED", raw_body=b)
        ),
        "whole verification": timed(lambda h, b: verify_saleor_webhook(headers=h, raw_body=b, spec=spec)),
    }


FLOOR_TABLE = "bench_floor_inbox"


def insert_costs(base_url: str, raw_requests: list[bytes], rounds: int) -> dict:
    """µs per row (Python + PostgreSQL backend) of two bare-minimum inserts on a connection of their own: the
    bare endpoint's, and the least any deduplicating inbox needs (a unique key, ON CONFLICT DO NOTHING).
    They alternate over ``rounds`` rounds; each figure is the median of its rounds."""
    import hashlib

    import psycopg

    statements = {
        "bare insert": (f"INSERT INTO {ingest.BARE_TABLE} (raw_body) VALUES (%s)", lambda b: (b,)),
        "minimal dedupe insert": (
            f"INSERT INTO {FLOOR_TABLE} (dedupe_key, raw_body) VALUES (%s, %s)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            lambda b: (hashlib.sha256(b.encode()).hexdigest(), b),
        ),
    }
    bodies = [raw.split(b"\r\n\r\n", 1)[1].decode() for raw in raw_requests]
    per_round = max(1, len(bodies) // rounds)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in statements}
    with psycopg.connect(f"{base_url}/{DB_NAME}", autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {FLOOR_TABLE} (id bigserial PRIMARY KEY, dedupe_key varchar(64) NOT NULL UNIQUE,"
            " raw_body text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
        )
        backend = Path(f"/proc/{conn.info.backend_pid}/schedstat")
        for r in range(rounds):
            chunk = bodies[r * per_round : (r + 1) * per_round]
            names = list(statements) if r % 2 == 0 else list(reversed(statements))
            for name in names:
                sql, params = statements[name]
                rows = [params(b) for b in chunk]
                cpu0, pg0 = time.process_time(), int(backend.read_text().split()[0])
                with conn.cursor() as cursor:
                    for row in rows:
                        cursor.execute(sql, row, prepare=False)
                python = (time.process_time() - cpu0) / len(rows) * 1e6
                postgres = (int(backend.read_text().split()[0]) - pg0) / 1e3 / len(rows)
                samples[name].append((python, postgres))
    out = {}
    for name, values in samples.items():
        python = statistics.median(v[0] for v in values)
        postgres = statistics.median(v[1] for v in values)
        out[name] = {"python_us": python, "postgres_us": postgres, "total_us": python + postgres}
    return out


def main() -> int:
    args = parse_args()
    mode = "smoke" if args.smoke else "full"
    base_url = args.pg.rstrip("/")
    ingest.check_services(base_url)
    pem, jwks, kid = ingest.new_signing_key()
    factory = ingest.RequestFactory(pem, kid, "127.0.0.1", procs=os.cpu_count() or 2)
    n = args.requests
    problems: list[str] = []
    try:
        futures = factory.submit(2 * n * args.rounds + 20)
        ingest.prepare_database(base_url, jwks)
        requests = factory.collect(futures)
    finally:
        factory.close()
    os.environ.update(ingest.server_env(base_url))
    os.environ["DATABASE_URL"] = f"{base_url}/{DB_NAME}"
    import django

    django.setup()
    from django.db import connections

    from saleor_support_plugin.project.wsgi import application

    redis_client = ingest.redis_client()
    redis_client.flushdb()
    meter = Meter(redis_client)
    rounds: list[dict] = []
    try:
        # Warm-up: imports, the installation cache, the database connection, first calls.
        warm = requests[:20]
        measure(application, meter, [wsgi_environ(r, ingest.VERIFIED_PATH) for r in warm[:10]])
        measure(application, meter, [wsgi_environ(r, ingest.BARE_PATH) for r in warm[10:]])
        pool = requests[20:]
        for r in range(args.rounds):
            chunk = pool[2 * n * r : 2 * n * (r + 1)]
            paths = {"verified": (ingest.VERIFIED_PATH, chunk[:n]), "bare": (ingest.BARE_PATH, chunk[n:])}
            order = ["verified", "bare"] if r % 2 == 0 else ["bare", "verified"]
            result: dict = {"round": r, "order": order}
            for name in order:
                path, raws = paths[name]
                result[name] = measure(application, meter, [wsgi_environ(raw, path) for raw in raws])
                if result[name]["not_2xx"]:
                    problems.append(f"round {r} {name}: {result[name]['not_2xx']} requests not answered 2xx")
            result["ratio"] = result["bare"]["total_us"] / result["verified"]["total_us"]
            rounds.append(result)
        steps = step_costs(requests[20 : 20 + min(n, 1000)])
        inserts = insert_costs(base_url, pool[: 2 * n * args.rounds], rounds=2 * args.rounds + 2)
        rows = ingest.table_count(base_url, "support_webhook_event")
        if rows != 10 + n * args.rounds:
            problems.append(f"{rows} inbox rows for {10 + n * args.rounds} verified requests")
    finally:
        connections.close_all()
        redis_client.flushdb()
        ingest.drop_database(base_url)

    def median(name: str, key: str) -> float:
        return statistics.median(r[name][key] for r in rounds)

    summary = {
        name: {k: median(name, k) for k in ("python_us", "postgres_us", "redis_us", "total_us", "wall_us")}
        for name in ("verified", "bare")
    }
    ratio = statistics.median(r["ratio"] for r in rounds)
    # The least a verified webhook can cost: the bare request, plus the signature check, the JSON parse and the
    # dedupe hash, plus what a unique key costs the insert. No installation lookup, no header checks, no other
    # index, no drain signalling.
    floor_extra = (
        steps["signature (RS256 verify)"]
        + steps["JSON parse"]
        + steps["dedupe hash"]
        + inserts["minimal dedupe insert"]["total_us"]
        - inserts["bare insert"]["total_us"]
    )
    floor_ratio = summary["bare"]["total_us"] / (summary["bare"]["total_us"] + floor_extra)
    out = {
        "mode": mode,
        "finished_at": datetime.now(UTC).isoformat(),
        "requests_per_round": n,
        "rounds": rounds,
        "summary": summary,
        "ratio": ratio,
        "steps_us": steps,
        "inserts_us": inserts,
        "floor_extra_us": floor_extra,
        "floor_ratio": floor_ratio,
        "problems": problems,
    }
    ingest.OUT.mkdir(parents=True, exist_ok=True)
    (ingest.OUT / f"ingest-cpu-{mode}-latest.json").write_text(json.dumps(out, indent=2) + "\n")

    print(f"\n{args.rounds} round(s) of {n} requests per endpoint, one at a time, in one process (µs per request)")
    print(f"{'endpoint':9s} {'python':>8s} {'postgres':>9s} {'redis':>7s} {'total':>8s} {'wall':>8s}")
    for name in ("verified", "bare"):
        s = summary[name]
        print(
            f"{name:9s} {s['python_us']:8.1f} {s['postgres_us']:9.1f} {s['redis_us']:7.1f}"
            f" {s['total_us']:8.1f} {s['wall_us']:8.1f}"
        )
    per_round = ", ".join(f"{r['ratio']:.2f}" for r in rounds)
    print(f"bare / verified CPU per request: median {ratio:.2f} (rounds: {per_round})")
    print("steps of the verified path, Python µs per request: " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    print(
        "inserts on their own, µs per row (Python + PostgreSQL): "
        + ", ".join(f"{k} {v['total_us']:.1f}" for k, v in inserts.items())
    )
    print(
        f"floor: the least a verified webhook must add to the bare request (signature + JSON + hash + a unique"
        f" key) is {floor_extra:.0f} µs, so bare / verified ≤ {floor_ratio:.2f} for any intake that commits each"
        " webhook on its own"
    )
    print(f"saved {(ingest.OUT / f'ingest-cpu-{mode}-latest.json').relative_to(ingest.ROOT)}")
    return ingest.exit_status(problems)


if __name__ == "__main__":
    sys.exit(main())
