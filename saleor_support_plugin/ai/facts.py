"""What we know about the shopper's order, in the compact shape prompts and macros use.

Built from our ``OrderSnapshot`` (no Saleor call on the triage path). Street lines are not part of the
facts: the model does not need them to answer, and what it never sees it cannot leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Shipment:
    status: str
    tracking_number: str
    created: str


@dataclass(frozen=True, slots=True)
class OrderFacts:
    number: str = ""
    status: str = ""
    created: str = ""
    is_paid: bool | None = None
    currency: str = ""
    total: str = ""
    items: tuple[tuple[str, int], ...] = ()
    shipments: tuple[Shipment, ...] = ()
    refunded_total: str = ""
    refunds: tuple[tuple[str, str], ...] = ()  # (amount, status)
    destination: str = ""  # city, country
    street_lines: tuple[str, ...] = field(default=(), repr=False)  # for redaction only

    @property
    def known(self) -> bool:
        return bool(self.number or self.status)

    @property
    def tracking_numbers(self) -> list[str]:
        return [s.tracking_number for s in self.shipments if s.tracking_number]

    def to_prompt(self) -> str:
        if not self.known:
            return "No order is linked to this conversation."
        lines = [f"order number: {self.number}", f"status: {self.status}", f"placed: {self.created}"]
        lines.append(f"paid: {'yes' if self.is_paid else 'no' if self.is_paid is False else 'unknown'}")
        if self.total:
            lines.append(f"total: {self.total} {self.currency}")
        lines += [f"item: {qty} x {name}" for name, qty in self.items[:10]]
        lines += [
            f"shipment: {s.status or 'sent'} on {s.created}, tracking {s.tracking_number or 'none'}"
            for s in self.shipments
        ]
        if not self.shipments:
            lines.append("shipment: none yet")
        if self.refunded_total:
            lines.append(f"refunded so far: {self.refunded_total} {self.currency}")
        lines += [f"refund granted: {amount} ({status})" for amount, status in self.refunds]
        if self.destination:
            lines.append(f"ships to: {self.destination}")
        return "\n".join(lines)

    def variables(self) -> dict[str, str]:
        """Values for macro $variables; absent facts are left out, so rendering can tell what is missing."""
        values = {
            "order_number": self.number,
            "order_status": self.status.replace("_", " ").lower(),
            "tracking_number": (self.tracking_numbers or [""])[-1],
            "tracking_numbers": ", ".join(self.tracking_numbers),
            "items": ", ".join(f"{qty} x {name}" for name, qty in self.items[:10]),
            "refunded_total": f"{self.refunded_total} {self.currency}".strip() if self.refunded_total else "",
            "currency": self.currency,
        }
        return {k: v for k, v in values.items() if v}


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01'))}"


def _day(value: object) -> str:
    return str(value)[:10] if value else ""


def order_facts_from_snapshot(snapshot) -> OrderFacts:  # noqa: ANN001 (OrderSnapshot; no model import here)
    if snapshot is None:
        return OrderFacts()
    address = snapshot.shipping_address or {}
    country = address.get("country")
    country = country.get("code", "") if isinstance(country, dict) else (country or "")
    refunds = []
    for grant in snapshot.granted_refunds or []:
        amount = (grant.get("amount") or {}).get("amount")
        refunds.append(
            (f"{amount} {(grant.get('amount') or {}).get('currency', '')}".strip(), grant.get("status") or "")
        )
    return OrderFacts(
        number=snapshot.number or "",
        status=snapshot.status or "",
        created=_day(snapshot.saleor_created_at),
        is_paid=snapshot.is_paid,
        currency=snapshot.currency or "",
        total=_money(snapshot.total_gross),
        items=tuple(
            (line.get("productName") or line.get("variantName") or "item", int(line.get("quantity") or 0))
            for line in snapshot.lines or []
        ),
        shipments=tuple(
            Shipment(f.get("status") or "", f.get("trackingNumber") or "", _day(f.get("created")))
            for f in snapshot.fulfillments or []
        ),
        refunded_total=_money(snapshot.total_refunded) if snapshot.total_refunded else "",
        refunds=tuple(refunds),
        destination=", ".join(p for p in (address.get("city", ""), country) if p),
        street_lines=tuple(
            v for v in (address.get("streetAddress1"), address.get("streetAddress2"), address.get("postalCode")) if v
        ),
    )
