"""Keyset ("seek") pagination over one sort key plus the primary key as tie-breaker.

A cursor names the last row of a page by its sort value and id, so the next page starts right after it
with an index range scan, however deep the page: no OFFSET that rescans skipped rows, and no rows
skipped or repeated when cases are opened or change between two page loads. Cursors are opaque
base64url JSON and carry the sort they were made for; using one with another sort is refused.

Sort keys may be NULL (a case without SLA due time): NULLs always come last, in both directions.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Expression, F, Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

from saleor_support_plugin.errors import PermanentError, SupportErrorCode

SORT_KEY = "_sort_key"
MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True, slots=True)
class SortSpec:
    name: str
    expression: Expression | F
    descending: bool
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    # Counts the rows of the filtered set (all pages), at most ``limit`` if given; called only if asked for.
    count: Callable[[int | None], int] | None = None


def _bad_cursor() -> PermanentError:
    return PermanentError(
        SupportErrorCode.INVALID, "The cursor is malformed or was made for another sort.", field="after"
    )


def _dump(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def cursor_encode(sort: SortSpec, value: object, pk: int) -> str:
    raw = json.dumps([sort.name, sort.descending, _dump(value), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(sort: SortSpec, cursor: str) -> tuple[object, int]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, descending, value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise _bad_cursor() from exc
    if name != sort.name or descending != sort.descending or not isinstance(pk, int):
        raise _bad_cursor()
    if isinstance(value, str):
        value = parse_datetime(value)
        if value is None:
            raise _bad_cursor()
    elif value is not None and not isinstance(value, int):
        raise _bad_cursor()
    return value, pk


def _after(sort: SortSpec, value: object, pk: int) -> Q:
    beyond = "lt" if sort.descending else "gt"
    if value is None:
        return Q(**{f"{SORT_KEY}__isnull": True, f"pk__{beyond}": pk})
    condition = Q(**{f"{SORT_KEY}__{beyond}": value}) | Q(**{SORT_KEY: value, f"pk__{beyond}": pk})
    return condition | Q(**{f"{SORT_KEY}__isnull": True}) if sort.nullable else condition


def _ordering(sort: SortSpec) -> Sequence[Any]:
    key = F(SORT_KEY)
    # NULLS LAST only where NULLs exist: on a NOT NULL column it would stop PostgreSQL from reading an
    # index backwards for a descending sort.
    extra = {"nulls_last": True} if sort.nullable else {}
    if sort.descending:
        return key.desc(**extra), F("pk").desc()
    return key.asc(**extra), F("pk").asc()


def keyset_page(
    qs: QuerySet,
    *,
    sort: SortSpec,
    first: int,
    after: str | None,
    prepare: Callable[[QuerySet], QuerySet] | None = None,
) -> Page:
    """One page of ``first`` rows after ``after``; reads ``first + 1`` rows to know if more follow.

    ``prepare`` may add select/prefetch/only (the GraphQL optimizer) to the page query; the count uses the
    plain filtered queryset.
    """
    matching = qs
    ordered = qs.annotate(**{SORT_KEY: sort.expression}).order_by(*_ordering(sort))

    def count(limit: int | None = None) -> int:
        if limit is None:
            return matching.count()
        # `SELECT COUNT(*) FROM (… ORDER BY <sort> LIMIT n)`: the ORDER BY is useless for the number, but it
        # makes PostgreSQL walk the page's index and stop after n matches, instead of betting on a sequential
        # scan finding n matches early (it does not when they are rare).
        return ordered[:limit].count()

    page = prepare(ordered) if prepare is not None else ordered
    if after:
        page = page.filter(_after(sort, *cursor_decode(sort, after)))
    rows: list[Model] = list(page[: first + 1])
    items = rows[:first]
    return Page(
        items=items,
        cursors=[cursor_encode(sort, getattr(row, SORT_KEY), row.pk) for row in items],
        has_next_page=len(rows) > first,
        has_previous_page=bool(after),
        count=count,
    )
