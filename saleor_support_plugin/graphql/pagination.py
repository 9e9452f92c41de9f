"""Turn a selector ``Page`` into a Relay connection, and bound page sizes."""

from __future__ import annotations

from typing import TypeVar

from strawberry import relay

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.errors import SupportErrorCode as Code
from saleor_support_plugin.selectors.pagination import Page

MAX_PAGE_SIZE = 100
C = TypeVar("C", bound=relay.Connection)


def page_size(first: int | None, *, default: int = 20) -> int:
    """``first`` within 1..MAX_PAGE_SIZE, else INVALID (a client bug, not something to clamp silently)."""
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise PermanentError(Code.INVALID, f"first must be between 1 and {MAX_PAGE_SIZE}.", field="first")
    return size


def connection(cls: type[C], page: Page) -> C:
    edges = [relay.Edge(cursor=cursor, node=node) for cursor, node in zip(page.cursors, page.items, strict=True)]
    page_info = relay.PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    return cls(edges=edges, page_info=page_info, count=page.count)  # type: ignore[call-arg]
