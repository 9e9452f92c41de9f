"""GraphQL documents we send to Saleor or register with it, kept as ``.graphql`` files.

Shared selections live once in ``saleor/fragments/``; a document names the fragments it spreads and
``load_document`` appends their definitions (transitively), so every subscription and poll query
selects exactly the same order/checkout/transaction fields and one set of payload models parses them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
FRAGMENTS_DIR = PACKAGE_DIR / "saleor" / "fragments"
QUERIES_DIR = PACKAGE_DIR / "saleor" / "queries"
SUBSCRIPTIONS_DIR = PACKAGE_DIR / "webhooks" / "subscriptions"

_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")
_DEFINITION = re.compile(r"^fragment\s+([_A-Za-z][_0-9A-Za-z]*)\s+on\s", re.MULTILINE)


@cache
def _fragment_sources() -> dict[str, str]:
    """Map fragment name -> its definition text (a file may define several fragments)."""
    sources: dict[str, str] = {}
    for path in sorted(FRAGMENTS_DIR.glob("*.graphql")):
        text = path.read_text()
        starts = [m.start() for m in _DEFINITION.finditer(text)] + [len(text)]
        for begin, end in zip(starts, starts[1:], strict=False):
            chunk = text[begin:end].strip()
            name = _DEFINITION.match(chunk)
            if name:
                sources[name.group(1)] = chunk
    return sources


def _spread_names(text: str) -> set[str]:
    return {name for name in _SPREAD.findall(text) if name != "on"}


def compose(text: str) -> str:
    """Append every fragment ``text`` needs, transitively, in a stable order."""
    fragments = _fragment_sources()
    needed: dict[str, str] = {}
    pending = sorted(_spread_names(text))
    while pending:
        name = pending.pop()
        if name in needed or name not in fragments:
            continue
        needed[name] = fragments[name]
        pending.extend(sorted(_spread_names(fragments[name]) - needed.keys()))
    defined = set(_DEFINITION.findall(text))
    extra = [needed[name] for name in sorted(needed) if name not in defined]
    return "\n\n".join([text.strip(), *extra]) + "\n"


@cache
def load_query(name: str) -> str:
    """An outbound query or mutation from ``saleor/queries/<name>.graphql``, fragments included."""
    return compose((QUERIES_DIR / f"{name}.graphql").read_text())


@cache
def load_subscription(event: str) -> str:
    """The subscription registered for ``event``, fragments included."""
    return compose((SUBSCRIPTIONS_DIR / f"{event}.graphql").read_text())


def all_query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.graphql"))
