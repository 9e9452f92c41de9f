"""The inspection and repair commands: status, replay, backfill, poll (Django is set up by then)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from saleor_support_plugin.cli import EXIT_OK, EXIT_USAGE, CliError
from saleor_support_plugin.cli.output import duration, moment, one_line, table
from saleor_support_plugin.models import EventSource, Installation
from saleor_support_plugin.selectors.status import STATUSES, InboxStatus, inbox_status_get, replay_candidates_list

DEFAULT_BACKFILL_DAYS = 365


def _installation(url: str | None, *, required: bool) -> Installation | None:
    """The installation named by ``--installation``; without it, the only active one (when required)."""
    if url:
        found = Installation.objects.filter(saleor_api_url=url.strip()).first()
        if found is None:
            known = ", ".join(Installation.objects.order_by("pk").values_list("saleor_api_url", flat=True))
            raise CliError(f"no installation for {url!r}; known: {known or 'none'}", exit_code=EXIT_USAGE)
        return found
    if not required:
        return None
    active = list(Installation.objects.active().order_by("pk"))
    if not active:
        raise CliError("no active installation: install the app from Saleor Dashboard first (see `saleor-support run`)")
    if len(active) > 1:
        urls = ", ".join(i.saleor_api_url for i in active)
        raise CliError(f"{len(active)} active installations; pick one with --installation URL: {urls}", exit_code=2)
    return active[0]


# --- status -------------------------------------------------------------------------------------


def _status_text(status: InboxStatus) -> str:
    out = [f"Saleor support status at {moment(status.generated_at)}", ""]
    out.append(f"Installations ({len(status.installations)})")
    if status.installations:
        rows = [
            (i.id, i.saleor_api_url, i.app_id, "yes" if i.is_active else "no", moment(i.installed_at),
             duration(i.jwks_age_seconds))
            for i in status.installations
        ]  # fmt: skip
        out.append(table(["ID", "SALEOR API URL", "APP ID", "ACTIVE", "INSTALLED", "JWKS AGE"], rows))
    else:
        out.append("  none: install the app from Saleor Dashboard (Apps → Install from manifest)")
    out += ["", f"Inbox ({status.total_events} events)"]
    headers = ["INSTALLATION", *(s.upper() for s in STATUSES), "TOTAL"]
    rows = [
        (url, *(counts.get(s, 0) for s in STATUSES), sum(counts.values()))
        for url, counts in sorted(status.inbox_by_installation.items())
    ]
    rows.append(("all", *(status.inbox_by_status.get(s, 0) for s in STATUSES), status.total_events))
    out.append(table(headers, rows))
    out.append("  by source: " + ", ".join(f"{k} {v}" for k, v in status.inbox_by_source.items()))
    oldest = status.oldest_received
    if oldest is None:
        out.append("  oldest unprocessed (received): none")
    else:
        out.append(
            f"  oldest unprocessed (received): {duration(oldest.age_seconds)} old "
            f"(#{oldest.id} {oldest.event_type}, {moment(oldest.received_at)})"
        )
    if status.inbox_by_status.get("failed"):
        out.append("  failed events can be re-run with `saleor-support replay`")
    out += ["", "Poll cursors"]
    if status.poll_cursors:
        rows = [
            (c.saleor_api_url, c.kind, moment(c.since), moment(c.last_success_at), c.last_seen, c.last_enqueued,
             "running" if c.is_running else "", one_line(c.last_error) or "-")
            for c in status.poll_cursors
        ]  # fmt: skip
        out.append(table(["INSTALLATION", "KIND", "SINCE", "LAST SUCCESS", "SEEN", "NEW", "", "LAST ERROR"], rows))
    else:
        out.append("  none yet: the worker's beat polls each active installation periodically")
    return "\n".join(out)


def command_status(args: argparse.Namespace) -> int:
    status = inbox_status_get(installation=_installation(args.installation, required=False))
    if args.json:
        print(json.dumps(status.as_json(), indent=2, sort_keys=True))
    else:
        print(_status_text(status))
    return EXIT_OK


# --- replay -------------------------------------------------------------------------------------


def command_replay(args: argparse.Namespace) -> int:
    from saleor_support_plugin.services.inbox import webhook_events_requeue

    installation = _installation(args.installation, required=False)
    candidates = replay_candidates_list(status=args.status, installation=installation, event_ids=args.ids)
    missing = sorted(set(args.ids or []) - {row["pk"] for row in candidates})
    if missing:
        print(f"skipped (no {args.status} event with these ids): {', '.join(map(str, missing))}")
    if args.dry_run:
        if candidates:
            rows = [
                (r["pk"], r["event_type"], r["object_id"] or "-", moment(r["received_at"]), r["attempts"],
                 one_line(r["last_error"]) or "-")
                for r in candidates
            ]  # fmt: skip
            print(table(["ID", "EVENT", "OBJECT", "RECEIVED", "ATTEMPTS", "LAST ERROR"], rows))
        print(f"dry run: {len(candidates)} {args.status} events would be re-queued")
        return EXIT_OK
    ids = webhook_events_requeue(status=args.status, installation=installation, event_ids=args.ids)
    listed = f": {', '.join(map(str, ids))}" if 0 < len(ids) <= 20 else ""
    print(f"re-queued {len(ids)} {args.status} events{listed}")
    if ids:
        print("a running worker processes them now; follow with `saleor-support status`")
    return EXIT_OK


# --- backfill -----------------------------------------------------------------------------------


def _since(raw: str | None) -> datetime:
    if not raw:
        return timezone.now() - timedelta(days=DEFAULT_BACKFILL_DAYS)
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise CliError(f"--since {raw!r} is not an ISO date such as 2025-01-31", exit_code=EXIT_USAGE) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    if parsed > timezone.now():
        raise CliError(f"--since {raw!r} is in the future", exit_code=EXIT_USAGE)
    return parsed


class _Progress:
    """A tqdm bar created once Saleor tells the total (``totalCount`` of the first page)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def total(self, total: int) -> None:
        from tqdm import tqdm

        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit="order", file=sys.stderr, dynamic_ncols=True)
        elif self.bar.total != total:  # orders changed while we paged
            self.bar.total = total
            self.bar.refresh()

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def command_backfill(args: argparse.Namespace) -> int:
    """Page through Saleor's orders changed since ``--since`` and record them like the poller does.

    The dedupe key is the poller's (object id + change stamp), so re-running, or running alongside
    polling and webhooks, adds nothing twice; the worker turns the new rows into snapshots.
    """
    from saleor_support_plugin.services.installations import installation_client
    from saleor_support_plugin.services.polling import orders_changed_pages, orders_record

    since = _since(args.since)
    installation = _installation(args.installation, required=True)
    client = installation_client(installation=installation)
    print(f"backfilling orders changed since {moment(since)} from {installation.saleor_api_url}", flush=True)
    seen = new = 0
    started = timezone.now()
    progress = _Progress(enabled=not args.no_progress)
    done = False
    try:
        for page in orders_changed_pages(client, since=since, on_total=progress.total):
            result = orders_record(
                installation=installation, nodes=page, polled_at=started, source=EventSource.BACKFILL
            )
            seen += result.seen
            new += result.enqueued
            progress.update(len(page))
        done = True
    finally:
        progress.close()
        if not done:
            print(f"stopped early: {seen} orders seen, {new} new inbox events (re-run to continue)")
    print(f"{seen} orders seen, {new} new inbox events")
    if new:
        print("the worker turns them into snapshots; follow with `saleor-support status`")
    return EXIT_OK


# --- poll ---------------------------------------------------------------------------------------


def command_poll(args: argparse.Namespace) -> int:
    from saleor_support_plugin.services.polling import installation_poll

    installation = _installation(args.installation, required=True)
    result = installation_poll(installation=installation)
    print(f"polled {installation.saleor_api_url}")
    rows = []
    for kind, outcome in result.items():
        if "skipped" in outcome:
            rows.append((kind, "-", "-", f"skipped: {outcome['skipped']}"))
        else:
            rows.append((kind, outcome.get("seen", 0), outcome.get("enqueued", 0), "ok"))
    print(table(["KIND", "SEEN", "NEW", "RESULT"], rows))
    return EXIT_OK
