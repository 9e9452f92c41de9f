"""Small value types shared by both schemas."""

from __future__ import annotations

from decimal import Decimal

import strawberry


@strawberry.type(description="An amount of money (same shape as Saleor's Money).")
class Money:
    amount: float
    currency: str

    @classmethod
    def of(cls, amount: Decimal | None, currency: str) -> Money | None:
        return None if amount is None else cls(amount=float(amount), currency=currency)


@strawberry.type(description="A file that came with a message (the file itself is not stored).")
class Attachment:
    filename: str
    content_type: str
    size: int | None

    @classmethod
    def from_json(cls, items: list) -> list[Attachment]:
        return [
            cls(
                filename=str(item.get("filename") or ""),
                content_type=str(item.get("content_type") or ""),
                size=item.get("size") if isinstance(item.get("size"), int) else None,
            )
            for item in items
            if isinstance(item, dict)
        ]
