"""``saleor-support schema export``: write the staff and shopper GraphQL schemas as SDL for codegen.

``--check`` writes nothing and fails (exit 1) when the files on disk differ, so CI can catch a schema
that changed without the Dashboard extension's codegen input being regenerated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from saleor_support_plugin.cli import EXIT_ERROR, EXIT_OK, CliError

FILES = {"staff": "schema.staff.graphql", "shopper": "schema.shopper.graphql"}


def register(sub: argparse._SubParsersAction) -> None:
    schema = sub.add_parser("schema", help="export the GraphQL schemas (SDL) for the Dashboard's codegen")
    actions = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help=f"write {FILES['staff']} and {FILES['shopper']}")
    export.add_argument("--out", metavar="DIR", default=".", help="directory to write to (default: .)")
    export.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files are out of date")


def schema_sdl() -> dict[str, str]:
    """The SDL of each schema, by audience (``staff``, ``shopper``)."""
    from saleor_support_plugin.graphql.shopper.schema import schema as shopper_schema
    from saleor_support_plugin.graphql.staff.schema import schema as staff_schema

    return {"staff": staff_schema.as_str() + "\n", "shopper": shopper_schema.as_str() + "\n"}


def command_schema(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if not out.is_dir():
        raise CliError(f"--out {str(out)!r} is not a directory")
    stale = []
    for audience, sdl in schema_sdl().items():
        path = out / FILES[audience]
        if args.check:
            if not path.exists() or path.read_text() != sdl:
                stale.append(str(path))
            continue
        path.write_text(sdl)
        print(f"wrote {path} ({sdl.count(chr(10))} lines)")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `saleor-support schema export --out {out}`")
        return EXIT_ERROR
    return EXIT_OK
