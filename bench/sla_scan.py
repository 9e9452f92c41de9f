"""SLA scan benchmark: one breach/near-breach scan over a large case table must read only the due rows.

What runs: a fresh PostgreSQL database (``support_bench_sla``, dropped and recreated, migrated with
``manage.py migrate``), three installations with the default SLA calendar and policies, then N cases, their
pending SLA checks (``support_sla_check``) and N order snapshots (``INSERT … SELECT generate_series``, one
case in 100 due by default) spread over the three installations; VACUUM ANALYZE and CHECKPOINT. It prints
EXPLAIN (ANALYZE, BUFFERS) of the scan's SELECT (built by the same selector ``sla_scan`` calls, and checked
against the query ``sla_scan`` really sent), times one ``sla_scan()`` (every due case gets a warning or a
breach + escalation, so the writes are timed too), then adds N more cases and snapshots (again with the
same number due, the first ones having been handled), and does it again. Finally a table: total rows, due
rows, scan seconds, how many case row updates were HOT, and what the scan did.

It prints figures; it never asserts timings. The exit status is non-zero only when the bench itself is
broken (database, migrations, a scan that did not handle every due case).

    .venv/bin/python bench/sla_scan.py                  # 1,000,000 then 2,000,000 rows, 10,000 due (~4-10 min)
    .venv/bin/python bench/sla_scan.py --smoke          # 20,000 then 40,000 rows, 1,000 due (~15 s)
    .venv/bin/python bench/sla_scan.py --rows 200000 --due 5000
    .venv/bin/python bench/sla_scan.py --fillfactor 90  # experiment: room for HOT updates in support_case

Environment: ``SLA_BENCH_ADMIN_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``) is where the
bench database is created, ``SLA_BENCH_DB`` its name (default ``support_bench_sla``);
``DJANGO_SETTINGS_MODULE`` defaults to the project settings.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchdb  # noqa: E402 (bench/ is the script's own folder on sys.path)
from benchdb import BenchBroken  # noqa: E402

DB_NAME = os.environ.get("SLA_BENCH_DB", "support_bench_sla")
ADMIN_URL = os.environ.get("SLA_BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_URL = urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{DB_NAME}"))
INSERT_CHUNK = 250_000
PRIORITIES = ["low", "normal", "high", "urgent"]
REASONS = ["order_status", "delivery_delay", "payment_issue", "refund_status", "return_request", "other"]
SNAPSHOT_STATUSES = ["UNFULFILLED", "FULFILLED", "PARTIALLY_FULFILLED", "CANCELED", "EXPIRED"]


# -- database -------------------------------------------------------------------------------------------


def recreate_database() -> None:
    env = {**os.environ, "DATABASE_URL": BENCH_URL}
    env.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")
    benchdb.recreate_database(admin_url=ADMIN_URL, name=DB_NAME, env=env)


def drop_database() -> None:
    benchdb.drop_database(admin_url=ADMIN_URL, name=DB_NAME)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")
    import django

    django.setup()


# -- data -----------------------------------------------------------------------------------------------


def create_installations() -> tuple[list[int], list[int]]:
    """Three installations with the default calendar and policies; returns their ids and the policy ids
    laid out as ``policies[installation_index * 4 + priority_index]``."""
    from django.utils import timezone

    from saleor_support_plugin.models import Installation, SlaPolicy
    from saleor_support_plugin.services.sla import sla_defaults_ensure

    installations, policies = [], []
    for index in range(3):
        installation = Installation.objects.create(
            saleor_api_url=f"https://shop{index}.bench.example.com/graphql/",
            domain=f"shop{index}.bench.example.com",
            app_id=f"bench-{index}",
            installed_at=timezone.now(),
        )
        sla_defaults_ensure(installation=installation)
        installations.append(installation.pk)
        by_priority = dict(SlaPolicy.objects.filter(installation=installation).values_list("priority", "pk"))
        policies += [by_priority[p] for p in PRIORITIES]
    return installations, policies


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def insert_select(model, exprs: dict[str, str], first: int, count: int, where: str = "TRUE") -> None:
    """INSERT INTO <model table> SELECT … FROM generate_series WHERE ``where``: every concrete column gets
    either its expression from ``exprs`` (SQL over ``g``, the row number) or the model default (so the bench
    keeps working when columns are added); the primary key only when ``exprs`` has it."""
    from django.db import connection, transaction

    columns, values, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in exprs:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in exprs:
            values.append(exprs[field.column].replace("%", "%%"))  # literal SQL: `%` is modulo
        elif field.has_default():
            values.append("%s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            values.append("NULL")
        else:
            raise BenchBroken(f"bench has no value for {model._meta.db_table}.{field.column}")
    unknown = set(exprs) - {f.column for f in model._meta.concrete_fields}
    if unknown:
        raise BenchBroken(f"bench fills columns the model does not have: {sorted(unknown)}")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(%s, %s) AS g WHERE {where.replace('%', '%%')}"
    )
    done = first
    while done < first + count:
        upto = min(done + INSERT_CHUNK, first + count)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*defaults, done + 1, upto])
        done = upto


def insert_rows(*, first: int, count: int, due: int, installations: list[int], policies: list[int]) -> None:
    """Cases ``first+1 … first+count`` (id = row number; one order snapshot each). Every ``count // due``-th
    row is due: open, its next check a few minutes ago; half of those breach their first response, half
    are inside the warning window. Of the rest, 70 % are resolved/closed (no check), 25 % active with the
    next check within 30 days, 5 % paused waiting on the customer (no check). Only the due and active
    cases have a ``support_sla_check`` row, as the clock functions leave it."""
    from django.db import connection

    from saleor_support_plugin.models import Case, OrderSnapshot, SlaCheck

    step = max(count // due, 1)
    inst = f"(ARRAY[{','.join(map(str, installations))}]::bigint[])[g % 3 + 1]"
    prio = "(g / 3) % 4"
    is_due = f"(g % {step} = 0)"
    kind = "(g * 7 % 20)"  # 0..13 closed/resolved, 14..18 active, 19 paused
    closed = f"(NOT {is_due} AND {kind} < 14)"
    paused = f"(NOT {is_due} AND {kind} = 19)"
    active = f"(NOT {is_due} AND {kind} BETWEEN 14 AND 18)"
    # Due cases were opened in the last 10 hours; the others up to 90 days ago.
    created = f"(now() - make_interval(mins => (CASE WHEN {is_due} THEN g % 600 ELSE 600 + g % 129600 END)::int))"
    order_id = "'T3JkZXI6' || g"
    cases = {
        "id": "g",
        "installation_id": inst,
        "number": "g",
        "subject": "'Bench case ' || g",
        "reason": f"({sql_array(REASONS)})[g % {len(REASONS)} + 1]",
        "rule": "CASE WHEN g % 4 = 0 THEN 'order_payment_failed' ELSE '' END",
        "status": f"CASE WHEN {is_due} THEN 'open' WHEN {closed} THEN "
        f"(CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'resolved' END) WHEN {paused} THEN 'pending_customer' "
        f"ELSE 'open' END",
        "priority": f"({sql_array(PRIORITIES)})[{prio} + 1]",
        "source": "CASE WHEN g % 4 = 0 THEN 'auto' ELSE 'storefront' END",
        "order_saleor_id": order_id,
        "order_number": "g::text",
        "currency": "'USD'",
        "value_at_risk": "(g % 500)::numeric + 0.99",
        "reply_token": "md5(g::text)",
        "sla_policy_id": f"(ARRAY[{','.join(map(str, policies))}]::bigint[])[(g % 3) * 4 + {prio} + 1]",
        "first_response_due_at": f"CASE WHEN {is_due} THEN "
        f"(CASE WHEN (g / {step}) % 2 = 0 THEN now() - interval '2 hours' ELSE now() + interval '30 minutes' END) "
        f"ELSE {created} + interval '8 hours' END",
        "resolution_due_at": f"{created} + interval '3 days'",
        "first_responded_at": f"CASE WHEN {closed} THEN {created} + interval '1 hour' ELSE NULL END",
        "sla_paused_at": f"CASE WHEN {paused} THEN now() - interval '1 day' ELSE NULL END",
        "created_at": created,
        "updated_at": created,
        "resolved_at": f"CASE WHEN {closed} THEN {created} + interval '2 days' ELSE NULL END",
        "closed_at": f"CASE WHEN {closed} AND g % 2 = 0 THEN {created} + interval '9 days' ELSE NULL END",
    }
    checks = {
        "case_id": "g",
        "installation_id": inst,
        "next_check_at": f"CASE WHEN {is_due} THEN now() - make_interval(secs => (g % 600) + 1) "
        "ELSE now() + make_interval(mins => 60 + (g % 43200)::int) END",
    }
    snapshots = {
        "installation_id": inst,
        "saleor_id": order_id,
        "version_stamp": created,
        "version_issued_at": created,
        "first_seen_at": created,
        "updated_at": created,
        "number": "g::text",
        "token": "md5('order' || g)",
        "status": f"({sql_array(SNAPSHOT_STATUSES)})[g % {len(SNAPSHOT_STATUSES)} + 1]",
        "origin": "'CHECKOUT'",
        "language_code": "'EN'",
        "charge_status": "CASE WHEN g % 4 = 0 THEN 'NONE' ELSE 'FULL' END",
        "authorize_status": "'FULL'",
        "channel_slug": "'default-channel'",
        "currency": "'USD'",
        "user_email": "'shopper' || (g % 50000) || '@example.com'",
        "total_gross": "(g % 500)::numeric + 0.99",
        "total_charged": "CASE WHEN g % 4 = 0 THEN 0 ELSE (g % 500)::numeric + 0.99 END",
        "saleor_created_at": created,
        "saleor_updated_at": created,
        "is_paid": "g % 4 <> 0",
    }
    insert_select(Case, cases, first, count)
    with connection.cursor() as cursor:  # explicit ids: move the identity past them
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('support_case', 'id'), (SELECT max(id) FROM support_case))"
        )
    insert_select(SlaCheck, checks, first, count, where=f"{is_due} OR {active}")
    insert_select(OrderSnapshot, _existing(OrderSnapshot, snapshots), first, count)


def _existing(model, exprs: dict[str, str]) -> dict[str, str]:
    """Snapshot columns change with the Saleor fragments; fill those that exist."""
    columns = {f.column for f in model._meta.concrete_fields}
    return {column: sql for column, sql in exprs.items() if column in columns}


def vacuum_analyze() -> None:
    """VACUUM ANALYZE, then CHECKPOINT: the bulk load's dirty buffers are written now, not by whichever
    backend (the timed scan) next needs a free buffer."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("support_case", "support_sla_check", "support_order_snapshot", "support_case_event"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")


def count(sql: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


# -- measuring ------------------------------------------------------------------------------------------

_LITERAL_TIME = re.compile(r"'\d{4}-\d\d-\d\d[ T][\d:.]+(?:[+-]\d\d(?::?\d\d)?)?'(?:::timestamptz)?")


def normalized(sql: str) -> str:
    return _LITERAL_TIME.sub("'<now>'", " ".join(sql.split()))


def explain(batch: int) -> tuple[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the scan's SELECT, inside a rolled-back transaction (it locks)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from saleor_support_plugin.selectors.sla import sla_due_rows_sql

    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = sla_due_rows_sql(now=timezone.now(), limit=batch)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        shown = cursor.mogrify(sql, params)
        transaction.set_rollback(True)
    return plan, shown


def timed_scan(batch: int) -> tuple[datetime, float, dict[str, int], list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from saleor_support_plugin.services.sla import sla_scan

    started = datetime.now(UTC)
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        counts = sla_scan(batch=batch)
        elapsed = time.perf_counter() - began
    return started, elapsed, counts, captured.captured_queries


_TABLE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def statements(queries: list[dict]) -> dict[str, list[float]]:
    """Per SQL verb (and table written): [statements, seconds] as Django measured them around each execute."""
    kinds: dict[str, list[float]] = {}
    for query in queries:
        sql = query["sql"]
        times, _, statement = sql.partition(" times: ") if sql[:1].isdigit() else ("1", "", sql)
        verb = statement.lstrip().split(None, 1)[0].upper()
        if table := _TABLE.match(statement):
            verb = f"{verb} {table.group(1)}"
        entry = kinds.setdefault(verb, [0, 0.0])
        entry[0] += int(times)
        entry[1] += float(query["time"])
    return kinds


def table_writes() -> dict[str, tuple[int, int, int]]:
    """(updated, of which HOT, deleted) rows so far, per table the scan writes (pg_stat_user_tables)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # PostgreSQL 15+: this backend's counts, now
        cursor.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables "
            "WHERE relname IN ('support_case', 'support_sla_check')"
        )
        return {name: (upd, hot, deleted) for name, upd, hot, deleted in cursor.fetchall()}


def measure(label: str, *, total: int, batch: int) -> dict:
    due = count("SELECT count(*) FROM support_sla_check WHERE next_check_at <= now()")
    plan, explained_sql = explain(batch)
    print(f"\n== {label}: {total:,} cases, {due:,} due ==")
    print("EXPLAIN (ANALYZE, BUFFERS) of the scan's SELECT (first batch):")
    print("  " + plan.replace("\n", "\n  "))
    load_before = os.getloadavg()[0]
    writes_before = table_writes()
    started, elapsed, counts, queries = timed_scan(batch)
    writes = {
        table: [after - before for after, before in zip(counts_after, writes_before.get(table, (0, 0, 0)), strict=True)]
        for table, counts_after in table_writes().items()
    }
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and "FOR UPDATE" in q["sql"]]
    same = bool(selects) and normalized(selects[0]) == normalized(explained_sql)
    print(f"explained SELECT is the one sla_scan sent: {'yes' if same else 'NO'}")
    if not same and selects:
        print(f"  sla_scan sent: {selects[0][:400]}")
    kinds = statements(queries)
    breakdown = "  ".join(f"{verb} {int(n)}× {seconds:.3f} s" for verb, (n, seconds) in kinds.items())
    print(f"sla_scan(): {elapsed:.3f} s  {counts}")
    print(f"  statements (time inside execute): {breakdown}")
    for table, (updated, hot, deleted) in sorted(writes.items()):
        print(f"  {table}: {updated:,} rows updated ({hot:,} HOT), {deleted:,} deleted")
    print(f"  load average before the scan: {load_before:.2f} ({os.cpu_count()} CPUs)")
    left = count("SELECT count(*) FROM support_sla_check WHERE next_check_at <= %s", [started])
    if counts["checked"] < due or left:
        raise BenchBroken(f"scan checked {counts['checked']} of {due} due cases; {left} still due")
    return {
        "label": label,
        "total": total,
        "due": due,
        "seconds": elapsed,
        "index": "sla_check_next_idx" in plan and "Seq Scan" not in plan,
        "select_ms": _execution_ms(plan),
        "sql_s": sum(seconds for _, seconds in kinds.values()),
        "case_updates": writes.get("support_case", [0, 0, 0])[:2],
        "load": load_before,
        **counts,
    }


def set_fillfactor(percent: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE support_case SET (fillfactor = {int(percent)})")
    print(f"support_case fillfactor set to {int(percent)} (experiment; the migrations do not set it)")


def server_settings() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), "
            "pg_size_pretty(pg_total_relation_size('support_case')), "
            "(SELECT count(*) FROM pg_indexes WHERE tablename = 'support_case'), "
            "(SELECT coalesce(array_to_string(reloptions, ','), 'default') FROM pg_class "
            "WHERE relname = 'support_case'), "
            "pg_size_pretty(pg_total_relation_size('support_sla_check')), "
            "(SELECT count(*) FROM pg_indexes WHERE tablename = 'support_sla_check')"
        )
        version, buffers, size, indexes, options, check_size, check_indexes = cursor.fetchone()
    return (
        f"PostgreSQL {version}, shared_buffers {buffers}; support_case {size} with {indexes} indexes "
        f"(storage: {options}); support_sla_check {check_size} with {check_indexes} indexes"
    )


def _execution_ms(plan: str) -> float | None:
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(match.group(1)) if match else None


# -- main -----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, 1,000 due")
    parser.add_argument("--rows", type=int, help="cases (and snapshots) in the first round; doubled in the second")
    parser.add_argument("--due", type=int, help="due cases in each round")
    parser.add_argument("--batch", type=int, default=1000, help="sla_scan(batch=…)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    parser.add_argument(
        "--fillfactor",
        type=int,
        help="experiment: ALTER TABLE support_case SET (fillfactor = N) before inserting (not in the migrations)",
    )
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.smoke else 1_000_000)
    due = args.due or (1_000 if args.smoke else 10_000)
    if not 0 < due <= rows:
        parser.error("need 0 < --due <= --rows")

    try:
        began = time.perf_counter()
        recreate_database()
        setup_django()
        print(f"database {DB_NAME} recreated and migrated in {time.perf_counter() - began:.1f} s")
        if args.fillfactor:
            set_fillfactor(args.fillfactor)
        installations, policies = create_installations()
        results = []
        for round_, first in enumerate((0, rows)):
            began = time.perf_counter()
            insert_rows(first=first, count=rows, due=due, installations=installations, policies=policies)
            vacuum_analyze()
            total = count("SELECT count(*) FROM support_case")
            snapshots = count("SELECT count(*) FROM support_order_snapshot")
            print(
                f"\ninserted {rows:,} cases + {rows:,} order snapshots (totals {total:,} / {snapshots:,}) "
                f"and VACUUM ANALYZE + CHECKPOINT in {time.perf_counter() - began:.1f} s"
            )
            results.append(measure("base" if round_ == 0 else "doubled", total=total, batch=args.batch))
        settings_line = server_settings()
    except BenchBroken as exc:
        print(f"\nBENCH BROKEN: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            try:
                drop_database()
            except Exception as exc:  # noqa: BLE001 (cleanup must not hide the result)
                print(f"could not drop {DB_NAME}: {exc}", file=sys.stderr)

    print(f"\n{settings_line}")
    print(
        "\n| cases | due | sla_scan() s | of which SQL s | 1st SELECT ms | index only | case rows updated (HOT) "
        "| checked | warned | breached | escalated | load |"
    )
    print("|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        updated, hot = r["case_updates"]
        print(
            f"| {r['total']:,} | {r['due']:,} | {r['seconds']:.3f} | {r['sql_s']:.3f} | {r['select_ms']} | "
            f"{'yes' if r['index'] else 'NO'} | {updated:,} ({hot:,}) | {r['checked']:,} | {r['warned']:,} | "
            f"{r['breached']:,} | {r['escalated']:,} | {r['load']:.1f} |"
        )
    ratio = results[1]["seconds"] / results[0]["seconds"]
    print(f"\ndoubling the rows changed the scan time ×{ratio:.2f} (target < 2 s per scan, ratio well under 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
