"""``saleor-support``: the operator's command line (run, status, replay, backfill, poll).

Like every interface here it only parses arguments, calls one service or selector and prints the
result. Failures the operator can fix (unknown installation, bad date, database not migrated, Saleor
unreachable) end in one ``error: ...`` line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

SETTINGS_MODULE = "saleor_support_plugin.project.settings"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem the operator can fix; printed as one line."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saleor-support", description="Operate the Saleor support app: run it, inspect and repair the inbox."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="migrate, then run the web server and one worker (with beat) locally")
    run.add_argument("--port", type=int, help="port to listen on (default: $PORT or 8000)")

    status = sub.add_parser("status", help="installations, inbox counts, poll cursors, backlog age")
    status.add_argument("--installation", metavar="URL", help="only this Saleor API URL")
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")

    replay = sub.add_parser("replay", help="re-run failed inbox events")
    replay.add_argument("--installation", metavar="URL", help="only events of this Saleor API URL")
    replay.add_argument(
        "--status",
        default="failed",
        choices=["failed", "ignored", "received"],
        help="which rows to re-run (default: failed; 'received' re-enqueues stuck rows)",
    )
    replay.add_argument("--id", dest="ids", type=int, nargs="+", metavar="N", help="only these event ids")
    replay.add_argument("--dry-run", action="store_true", help="list what would be re-run, change nothing")

    backfill = sub.add_parser("backfill", help="import order history from Saleor into the inbox")
    backfill.add_argument("--installation", metavar="URL", help="Saleor API URL (optional with one installation)")
    backfill.add_argument("--since", metavar="ISO-DATE", help="orders changed since (default: 365 days ago)")
    backfill.add_argument("--no-progress", action="store_true", help="no progress bar")

    poll = sub.add_parser("poll", help="poll one installation now and print what was found")
    poll.add_argument("--installation", metavar="URL", help="Saleor API URL (optional with one installation)")

    from saleor_support_plugin.cli import schema

    schema.register(sub)

    from saleor_support_plugin.cli import triage_eval

    triage_eval.register(sub)
    return parser


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from saleor_support_plugin.cli.run import command_run

        return command_run(args)
    if args.command == "triage-eval":
        from saleor_support_plugin.cli.triage_eval import command_triage_eval

        return command_triage_eval(args)
    if args.command == "schema":
        from saleor_support_plugin.cli.schema import command_schema

        return command_schema(args)
    from saleor_support_plugin.cli import commands

    handler = {
        "status": commands.command_status,
        "replay": commands.command_replay,
        "backfill": commands.command_backfill,
        "poll": commands.command_poll,
    }[args.command]
    return handler(args)


class _DropMessage(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _quiet_logs() -> None:
    """Keep command output readable: no per-request httpx lines under a progress bar, no broker chatter."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # kombu says this for every connection to the `filesystem://` broker of `make run`; it means nothing there.
    logging.getLogger("kombu.connection").addFilter(_DropMessage("No hostname was supplied"))


def _database_problem(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no such table" in text or "does not exist" in text:
        return f"the database is not migrated ({text}); run `saleor-support run` or `manage.py migrate` first"
    return f"database error: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``saleor-support`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return int(exc.code or 0)
    if args.command == "run" and args.port is not None:
        os.environ["PORT"] = str(args.port)  # settings derive APP_URL from it, so before setup
    _django_setup()
    if args.command != "run":
        _quiet_logs()

    from django.core.management import CommandError
    from django.db import DatabaseError

    from saleor_support_plugin.errors import SupportError

    try:
        return _dispatch(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SupportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except CommandError as exc:  # migrate refusing to run (system checks, conflicting migrations)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except DatabaseError as exc:
        print(f"error: {_database_problem(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `saleor-support status --json | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
