"""Staff inbox benchmark: the first page of ``cases`` over 1,000,000 cases, through the real GraphQL endpoint.

What runs: a fresh PostgreSQL database (``support_bench_inbox``, dropped and recreated, migrated with
``manage.py migrate``; model tables, columns or indexes that have no migration yet are added from the models
and listed), three installations each trusting its own freshly generated RSA key, then N cases spread over
them (``INSERT … SELECT generate_series``): 150,000 customers, order snapshots, a tag on one case in ten,
realistic statuses (about 30 % active), priorities, assignees and SLA due times around now; VACUUM ANALYZE.

Then gunicorn (one sync worker, like one production process) serves the WSGI app and a keep-alive HTTP
client POSTs the Dashboard's inbox query to ``/graphql/staff/`` with a minted Dashboard JWT
(``Authorization-Bearer`` + ``Saleor-Api-Url``): first page, 50 rows, sorted by SLA due, for a few common
filters, and two free-text searches (newest first; a search may match fewer than 50 rows), each ~200 times
after a warm-up, round-robin over the three installations. It prints p50/p95/max
per scenario, the SQL statements one request makes (counted in-process with Django's test client, for 5
and for 50 rows: they must be equal), and EXPLAIN (ANALYZE, BUFFERS) of the page and count queries.

It prints figures; it never asserts timings. The exit status is non-zero only when the bench itself is
broken (database, server, a request that failed, a query count that grows with the page size).

    .venv/bin/python bench/inbox.py             # 1,000,000 cases (~2-3 min)
    .venv/bin/python bench/inbox.py --smoke     # 20,000 cases (~20 s)
    .venv/bin/python bench/inbox.py --cases 200000 --requests 500

Environment: ``INBOX_BENCH_ADMIN_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``) is where the
bench database is created.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchdb  # noqa: E402 (bench/ is the script's own folder on sys.path)
from benchdb import BenchBroken  # noqa: E402

DB_NAME = "support_bench_inbox"
ADMIN_URL = os.environ.get("INBOX_BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_URL = urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{DB_NAME}"))
INSTALLATIONS = 3
CUSTOMERS_PER_INSTALLATION = 50_000
AGENTS = 8
INSERT_CHUNK = 250_000
PRIORITIES = ["low", "normal", "high", "urgent"]
REASONS = ["order_status", "delivery_delay", "payment_issue", "refund_request", "return_request", "other"]

INBOX_QUERY = """
query Inbox($first: Int!, $after: String, $filter: CaseFilterInput, $sortBy: CaseSortingInput, $countMax: Int) {
  cases(first: $first, after: $after, filter: $filter, sortBy: $sortBy) {
    totalCount(max: $countMax)
    pageInfo { hasNextPage endCursor }
    edges { node {
      id number subject status priority reason source orderNumber createdAt updatedAt tags
      customer { id email name }
      assignee { userId email }
      sla { dueAt firstResponseBreached resolutionBreached }
    } }
  }
}
"""
ACTIVE = ["NEW", "OPEN", "PENDING_CUSTOMER", "ON_HOLD"]
SLA_SORT = {"field": "SLA_DUE", "direction": "ASC"}
NEWEST = {"field": "CREATED_AT", "direction": "DESC"}
CAPPED = 1000  # what the Dashboard asks for: totalCount(max: 1000), shown as "1,000+" when reached
SCENARIOS: dict[str, dict] = {
    "open cases by SLA due (the main inbox)": {"filter": {"status": ACTIVE}, "sortBy": SLA_SORT, "countMax": CAPPED},
    "same, exact totalCount": {"filter": {"status": ACTIVE}, "sortBy": SLA_SORT},
    "open + unassigned": {"filter": {"status": ACTIVE, "assigned": False}, "sortBy": SLA_SORT, "countMax": CAPPED},
    "open + high/urgent": {
        "filter": {"status": ACTIVE, "priority": ["HIGH", "URGENT"]},
        "sortBy": SLA_SORT,
        "countMax": CAPPED,
    },
    "mine (assignee: me)": {"filter": {"status": ACTIVE, "assignee": "me"}, "sortBy": SLA_SORT, "countMax": CAPPED},
    "SLA breached": {"filter": {"status": ACTIVE, "slaBreached": True}, "sortBy": SLA_SORT, "countMax": CAPPED},
    # Free-text search (trigram indexes of migration 0003), all statuses, newest first: one customer's e-mail,
    # then subject words that match ~40 cases.
    # (the needle is set after seeding to the e-mail of the customer of case 4242, so it matches at any size)
    "search: a customer's e-mail": {"filter": {"search": ""}, "sortBy": NEWEST, "countMax": CAPPED},
    "search: subject words": {"filter": {"search": "bench case 4242"}, "sortBy": NEWEST, "countMax": CAPPED},
}


# -- database -------------------------------------------------------------------------------------------


def recreate_database() -> None:
    benchdb.recreate_database(admin_url=ADMIN_URL, name=DB_NAME, env=server_env())


def drop_database() -> None:
    benchdb.drop_database(admin_url=ADMIN_URL, name=DB_NAME)


def server_env() -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": BENCH_URL, "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")
    return env


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)


def ensure_model_schema() -> list[str]:
    """Add what the models declare but no migration created yet (new tables, columns, indexes).

    Until migrations are regenerated for a model change, ``migrate`` alone would bench an older schema.
    """
    from django.apps import apps
    from django.db import connection

    added: list[str] = []
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    with connection.schema_editor() as editor:
        for model in apps.get_app_config("support").get_models():
            table = model._meta.db_table
            if table not in tables:
                editor.create_model(model)
                added.append(f"table {table}")
                continue
            with connection.cursor() as cursor:
                columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
                existing = set(connection.introspection.get_constraints(cursor, table))
            for field in model._meta.local_concrete_fields:
                if field.column not in columns:
                    editor.add_field(model, field)
                    added.append(f"column {table}.{field.column}")
            for index in model._meta.indexes:
                if index.name not in existing:
                    editor.add_index(model, index)
                    added.append(f"index {index.name} on {table}")
                elif (index.condition is not None) != ("WHERE" in _indexdef(index.name)):
                    # Same name, but partial in the model and not in the migration (or the other way round).
                    editor.remove_index(model, index)
                    editor.add_index(model, index)
                    added.append(f"index {index.name} on {table} (recreated: the migration differs)")
    return added


def _indexdef(name: str) -> str:
    return scalar("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name]) or ""


# -- data -----------------------------------------------------------------------------------------------


@dataclass
class Tenant:
    pk: int
    api_url: str
    app_id: str
    private_pem: bytes
    kid: str


def create_installations() -> list[Tenant]:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.utils import timezone

    from saleor_support_plugin.models import Installation

    tenants = []
    for index in range(INSTALLATIONS):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        kid = f"bench-key-{index}"
        jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256"}
        installation = Installation.objects.create(
            saleor_api_url=f"https://shop{index}.bench.example.com/graphql/",
            domain=f"shop{index}.bench.example.com",
            app_id=f"QXBwOmJlbmNo{index}",
            jwks={"keys": [jwk]},
            jwks_fetched_at=timezone.now(),
            installed_at=timezone.now(),
        )
        tenants.append(Tenant(installation.pk, installation.saleor_api_url, installation.app_id, pem, kid))
    return tenants


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def insert_select(model, exprs: dict[str, str], count: int, *, first: int = 0) -> None:
    """INSERT INTO <model table> SELECT … FROM generate_series: every concrete column gets its expression from
    ``exprs`` (SQL over ``g``, the row number) or the model default, so new columns do not break the bench."""
    from django.db import connection, transaction

    columns, values, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in exprs:
            values.append(exprs[field.column].replace("%", "%%"))
        elif field.has_default():
            values.append("%s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            values.append("NULL")
        else:
            raise BenchBroken(f"bench has no value for {model._meta.db_table}.{field.column}")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(%s, %s) AS s(g) ORDER BY s.g"
    )
    done = first
    while done < first + count:
        upto = min(done + INSERT_CHUNK, first + count)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*defaults, done + 1, upto])
        done = upto


def scalar(sql: str, params: list | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def insert_data(tenants: list[Tenant], cases: int) -> None:
    """Customers, order snapshots, cases and tags. Row ``g`` belongs to installation ``g % 3``.

    Statuses: 70 % resolved/closed, 18 % new/open, 7 % waiting on the customer, 5 % on hold. Active cases
    have SLA due times from 2 days ago to 3 days ahead (about one in eight already breached); two thirds
    are assigned to one of eight agents.
    """
    from saleor_support_plugin.models import Case, CaseTag, Customer, OrderSnapshot

    inst = f"(ARRAY[{','.join(str(t.pk) for t in tenants)}]::bigint[])[g % {INSTALLATIONS} + 1]"
    n_customers = CUSTOMERS_PER_INSTALLATION * INSTALLATIONS
    insert_select(
        Customer,
        {"installation_id": inst, "email": "'shopper' || g || '@example.com'", "name": "'Shopper ' || g",
         "created_at": "now()", "updated_at": "now()"},
        n_customers,
    )  # fmt: skip
    first_customer = scalar("SELECT min(id) FROM support_customer")
    # Customer g (1-based) has id first_customer + g - 1 and installation g % 3: pick one with the case's g % 3.
    customer = (
        f"{first_customer} - 1 + ((g::bigint * 7919) % {CUSTOMERS_PER_INSTALLATION}) * {INSTALLATIONS}"
        f" + g % {INSTALLATIONS}"
    )
    customer = f"(CASE WHEN ({customer}) < {first_customer} THEN ({customer}) + {INSTALLATIONS} ELSE ({customer}) END)"
    kind = "(g::bigint * 37 % 100)"
    status = (f"CASE WHEN {kind} < 35 THEN 'closed' WHEN {kind} < 70 THEN 'resolved' WHEN {kind} < 80 THEN 'open' "
              f"WHEN {kind} < 88 THEN 'new' WHEN {kind} < 95 THEN 'pending_customer' ELSE 'on_hold' END")  # fmt: skip
    active = f"({kind} >= 70)"
    created = "(now() - make_interval(mins => (g::bigint * 13 % 259200)::int))"  # up to 180 days ago
    due = "(now() + make_interval(mins => ((g::bigint * 101 % 7200) - 2880)::int))"  # -2 days .. +3 days
    # Row g belongs to installation g % 3, so per-row traits use k = g / 3 (else one shop would get them all).
    responded = f"({active} AND (g / 11) % 3 = 0) OR NOT {active}"
    order_id = "'T3JkZXI6YmVuY2g' || g"
    assignee = f"CASE WHEN (g / 3) % 3 = 0 THEN '' ELSE 'VXNlcjo' || ((g / 3) % {AGENTS}) END"
    exprs = {
        "installation_id": inst,
        "number": "g",
        "subject": "'Bench case ' || g",
        "reason": f"({sql_array(REASONS)})[(g / 7) % {len(REASONS)} + 1]",
        "rule": "''",
        "status": status,
        "priority": f"({sql_array(PRIORITIES)})[(g / 3) % 4 + 1]",
        "source": "CASE WHEN g % 4 = 0 THEN 'auto' ELSE 'storefront' END",
        "customer_id": customer,
        "assignee_user_id": assignee,
        "assignee_email": f"CASE WHEN (g / 3) % 3 = 0 THEN '' ELSE 'agent' || ((g / 3) % {AGENTS}) || '@x.example' END",
        "order_saleor_id": order_id,
        "order_number": "g::text",
        "currency": "'USD'",
        "reply_token": "md5(g::text)",
        "first_response_due_at": (
            f"CASE WHEN {active} THEN {due} - interval '1 day' ELSE {created} + interval '8 hours' END"
        ),
        "resolution_due_at": f"CASE WHEN {active} THEN {due} ELSE {created} + interval '3 days' END",
        "first_responded_at": f"CASE WHEN {responded} THEN {created} + interval '1 hour' ELSE NULL END",
        "sla_paused_at": f"CASE WHEN {kind} >= 88 AND {kind} < 95 THEN now() - interval '1 day' END",
        "sla_first_response_breached": "false",
        "sla_resolution_breached": f"NOT {active} AND g % 10 = 0",
        "created_at": created,
        "updated_at": created,
        "resolved_at": f"CASE WHEN {kind} < 70 THEN {created} + interval '2 days' END",
        "closed_at": f"CASE WHEN {kind} < 35 THEN {created} + interval '9 days' END",
    }
    insert_select(Case, exprs, cases)
    snapshots = {
        "installation_id": inst, "saleor_id": order_id, "version_stamp": created, "version_issued_at": created,
        "first_seen_at": created, "updated_at": created, "number": "g::text", "status": "'FULFILLED'",
        "charge_status": "'FULL'", "channel_slug": "'default-channel'", "currency": "'USD'",
        "user_email": "'shopper' || g || '@example.com'", "total_gross": "(g % 500)::numeric + 0.99",
    }  # fmt: skip
    columns = {f.column for f in OrderSnapshot._meta.concrete_fields}
    insert_select(OrderSnapshot, {k: v for k, v in snapshots.items() if k in columns}, cases)
    first_case = scalar("SELECT min(id) FROM support_case")
    tags = cases // 10
    insert_select(
        CaseTag,
        {"case_id": f"{first_case} - 1 + g * 10", "name": "(ARRAY['vip','fragile','late','b2b'])[g % 4 + 1]"},
        tags,
    )


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("support_case", "support_customer", "support_case_tag", "support_order_snapshot"):
            cursor.execute(f"VACUUM ANALYZE {table}")


# -- requests -------------------------------------------------------------------------------------------


def mint(tenant: Tenant, *, lifetime: int = 3600) -> str:
    import jwt

    now = int(time.time())
    claims = {
        "iss": tenant.api_url, "iat": now, "exp": now + lifetime, "owner": "saleor", "type": "thirdparty",
        "app": tenant.app_id, "email": "agent1@example.com", "user_id": "VXNlcjo1", "is_staff": True,
        "user_permissions": ["MANAGE_ORDERS", "HANDLE_PAYMENTS"], "permissions": ["MANAGE_ORDERS"],
    }  # fmt: skip
    return jwt.encode(claims, tenant.private_pem, algorithm="RS256", headers={"kid": tenant.kid})


def body(variables: dict, first: int = 50) -> bytes:
    return json.dumps({"query": INBOX_QUERY, "variables": {"first": first, **variables}}).encode()


def count_queries(tenant: Tenant, variables: dict) -> dict[int, list[str]]:
    """The SQL one request sends, in-process through Django's test client (the same view and schema)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"HTTP_SALEOR_API_URL": tenant.api_url, "HTTP_AUTHORIZATION_BEARER": mint(tenant)}
    sent: dict[int, list[str]] = {}
    for first in (5, 50):
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/graphql/staff/", data=body(variables, first), content_type="application/json",
                                   **headers)  # fmt: skip
        data = response.json()
        if response.status_code != 200 or data.get("errors"):
            raise BenchBroken(f"in-process request failed: {response.status_code} {data}")
        rows, more = len(data["data"]["cases"]["edges"]), data["data"]["cases"]["pageInfo"]["hasNextPage"]
        if rows > first or (rows < first and more) or rows == 0:  # a search may match fewer than a page
            raise BenchBroken(f"expected {first} rows (or all of fewer), got {rows}")
        sent[first] = [q["sql"] for q in captured.captured_queries]
    return sent


def in_process(tenant: Tenant, variables: dict, requests: int) -> dict:
    """Wall and CPU time of the request in this process (Django test client, no HTTP, no other worker).

    CPU time is what the request costs the server; on a machine busy with other work the wall clock
    also counts time spent waiting for a core, the CPU time does not.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"HTTP_SALEOR_API_URL": tenant.api_url, "HTTP_AUTHORIZATION_BEARER": mint(tenant)}
    exact = client.post(
        "/graphql/staff/", data=body({**variables, "countMax": None}), content_type="application/json", **headers
    )
    matching = exact.json()["data"]["cases"]["totalCount"]
    payload = body(variables)
    walls, cpus, sqls = [], [], []
    for i in range(requests + 5):
        with CaptureQueriesContext(connection) as captured:
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.post("/graphql/staff/", data=payload, content_type="application/json", **headers)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if response.status_code != 200:
            raise BenchBroken(f"in-process request failed: {response.status_code}")
        if i >= 5:
            walls.append(wall * 1000)
            cpus.append(cpu * 1000)
            sqls.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    return {
        "matching": matching,
        "wall50": percentile(walls, 0.5),
        "cpu50": percentile(cpus, 0.5),
        "sql50": percentile(sqls, 0.5),
        "sql95": percentile(sqls, 0.95),
    }


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_summary(plan: str) -> str:
    """Execution time and the scans of a plan, on one line."""
    took = re.search(r"Execution Time: ([\d.]+) ms", plan)
    scans = re.findall(r"((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)?"
                       r"(?: using \w+)? on \w+)", plan)  # fmt: skip
    sorts = "; sort" if "Sort Key" in plan else ""
    return f"{took.group(1) if took else '?'} ms ({', '.join(dict.fromkeys(scans))}{sorts})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class",
               "sync", "--log-level", "warning", "saleor_support_plugin.project.wsgi:application"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env(), stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchBroken(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise BenchBroken(f"server not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_scenario(port: int, tenants: list[Tenant], variables: dict, requests: int, warmup: int) -> dict:
    import httpx

    tokens = [mint(t) for t in tenants]
    payload = body(variables)
    latencies: list[float] = []
    rows = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for i in range(warmup + requests):
            tenant = tenants[i % len(tenants)]
            headers = {"Content-Type": "application/json", "Saleor-Api-Url": tenant.api_url,
                       "Authorization-Bearer": tokens[i % len(tenants)]}  # fmt: skip
            began = time.perf_counter()
            response = http.post("/graphql/staff/", content=payload, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            data = response.json()
            if response.status_code != 200 or data.get("errors"):
                raise BenchBroken(f"request failed: {response.status_code} {str(data)[:500]}")
            if i >= warmup:
                latencies.append(elapsed)
                rows += len(data["data"]["cases"]["edges"])
    return {
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "rows": rows / requests,
    }


# -- main -----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="20,000 cases, fewer requests")
    parser.add_argument("--cases", type=int, help="number of cases (default 1,000,000; smoke 20,000)")
    parser.add_argument("--requests", type=int, help="timed requests per scenario (default 200; smoke 50)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    args = parser.parse_args()
    cases = args.cases or (20_000 if args.smoke else 1_000_000)
    requests = args.requests or (50 if args.smoke else 200)
    warmup = 10 if args.smoke else 30
    server = None
    results: dict[str, dict] = {}
    try:
        began = time.perf_counter()
        recreate_database()
        setup_django()
        added = ensure_model_schema()
        print(f"database {DB_NAME} recreated and migrated in {time.perf_counter() - began:.1f} s")
        if added:
            print("  added from the models (no migration yet): " + ", ".join(added))
        tenants = create_installations()
        began = time.perf_counter()
        insert_data(tenants, cases)
        vacuum_analyze()
        email = scalar(
            "SELECT c.email FROM support_case k JOIN support_customer c ON c.id = k.customer_id"
            " WHERE k.installation_id = %s ORDER BY abs(k.number - 4242) LIMIT 1",
            [tenants[0].pk],
        )
        SCENARIOS["search: a customer's e-mail"]["filter"]["search"] = email.split("@")[0] + "@"
        size = scalar("SELECT pg_size_pretty(pg_total_relation_size('support_case'))")
        print(
            f"inserted {cases:,} cases (support_case {size}) and VACUUM ANALYZE in {time.perf_counter() - began:.1f} s"
        )

        main_variables = next(iter(SCENARIOS.values()))
        sent = count_queries(tenants[0], main_variables)
        counts = {first: len(queries) for first, queries in sent.items()}
        print(f"\nSQL statements per request: {counts[5]} for 5 rows, {counts[50]} for 50 rows")
        for sql in sent[50]:
            print("  " + (sql if len(sql) < 160 else sql[:157] + "..."))
        if counts[5] != counts[50]:
            raise BenchBroken(f"query count grows with the page size: {counts}")
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the page and count queries, per scenario (installation 1):")
        for name, variables in SCENARIOS.items():
            queries = count_queries(tenants[0], variables)[50]
            page_sql = next(q for q in queries if "_sort_key" in q)
            count_sql = next(q for q in queries if "COUNT(*)" in q)
            print(f"\n### {name}")
            for label, sql in (("page", page_sql), ("count", count_sql)):
                plan = explain(sql)
                if name == next(iter(SCENARIOS)):
                    print(f"{label}:\n  " + plan.replace("\n", "\n  "))
                else:
                    print(f"{label}: {plan_summary(plan)}")

        local = {
            name: in_process(tenants[0], variables, 40 if args.smoke else 60) for name, variables in SCENARIOS.items()
        }

        port = free_port()
        server = Server(port, Path(tempfile.gettempdir()) / "bench-inbox-gunicorn.log")
        server.wait_ready()
        for name, variables in SCENARIOS.items():
            results[name] = run_scenario(port, tenants, variables, requests, warmup)
    except BenchBroken as exc:
        print(f"\nBENCH BROKEN: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            try:
                drop_database()
            except Exception as exc:  # noqa: BLE001 (cleanup must not hide the result)
                print(f"could not drop {DB_NAME}: {exc}", file=sys.stderr)

    version = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "PostgreSQL"
    print(f"\n{cases:,} cases over {INSTALLATIONS} installations; {requests} timed requests per scenario after "
          f"{warmup} warm-up; gunicorn 1 sync worker; client, server and {version} on this machine "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}).")  # fmt: skip
    print("\nHTTP: p50/p95/max through gunicorn. In-process (Django test client, same view): SQL time (p50/p95) and")
    print("the CPU time the request costs the server, which a busy machine does not inflate like the wall clock.")
    print("\n| scenario (first page, 50 rows) | matching | HTTP p50 ms | HTTP p95 ms | max ms "
          "| SQL p50/p95 ms | CPU p50 ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        lp = local[name]
        print(f"| {name} | {lp['matching']:,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} "
              f"| {lp['sql50']:.1f} / {lp['sql95']:.1f} | {lp['cpu50']:.1f} |")  # fmt: skip
    main_p95 = next(iter(results.values()))["p95"]
    print(f"\nmain inbox p95 {main_p95:.1f} ms (target < 50 ms); {counts[50]} SQL statements per request, "
          f"the same for 5 and 50 rows")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
