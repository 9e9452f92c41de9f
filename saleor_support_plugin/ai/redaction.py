"""Personal data out before text leaves for a model, back in when the draft returns.

E-mail addresses, phone numbers, card-like numbers and street addresses become numbered placeholders
(``[EMAIL_1]``); the same value always gets the same placeholder, so the model can still refer to it.
``pii_restore`` puts the values back into the draft, except card numbers: a reply must never repeat a card
number, so those come back masked to their last four digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \t().-]{6,18}\d(?![\w])")
_ORDER_CONTEXT = re.compile(
    r"(?:order|ordre|pedido|encomenda|заказ|đơn|订单|คำสั่งซื้อ|invoice|factura|fatura|#|no\.?|nr\.?)\s*[:#]?\s*$",
    re.IGNORECASE,
)
# Street lines in the languages our shoppers write; deliberately conservative (a number next to a street word).
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[\w'.-]+\s+){0,4}?(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|"
    r"way|court|ct|place|pl|terrace|close|crescent)\b\.?"
    r"|\b(?:rua|r\.|avenida|av\.|travessa|alameda|calle|c/|carrer|paseo|plaza|camino)\s+[^\n,;]{2,40}?,?\s*(?:n[º°o.]?\s*)?\d{1,5}\w?"
    r"|\b[A-ZÆØÅ][\wæøåäöüß]*(?:gata|gaten|gate|veien|vegen|vei|veg|straße|strasse|gasse|vej|gade|gatan|vägen)"
    r"\s+\d{1,4}\s?[A-Za-z]?\b"
    r"|\b[A-ZÆØÅ][\wæøå]+s?\s+(?:gate|vei|veg|allé)\s+\d{1,4}\s?[A-Za-z]?\b"
    r"|(?:ул\.|улица|пр-т|проспект|пер\.|переулок)\s*[^\n,;]{2,40}?,?\s*(?:д\.?\s*)?\d{1,4}"
    r"|\b\d{1,5}[A-Za-z]?(?:/\d{1,4})?\s+(?:đường|Đường|duong|phố|Phố|pho)\s+[^\n,;]{2,30}"
    r"|(?:บ้านเลขที่|เลขที่)\s*\d[\d/]*|ถนน\S+|ซอย\S+"
    r"|[\u4e00-\u9fff]{2,12}(?:路|街|道)\d{1,5}号(?:[\u4e00-\u9fff\d]{0,10}室)?",
    re.IGNORECASE,
)


@dataclass
class Redaction:
    text: str
    values: dict[str, str] = field(default_factory=dict)  # placeholder → original

    def placeholder_for(self, kind: str, value: str) -> str:
        for placeholder, original in self.values.items():
            if original == value and placeholder.startswith(f"[{kind}_"):
                return placeholder
        count = sum(1 for p in self.values if p.startswith(f"[{kind}_")) + 1
        placeholder = f"[{kind}_{count}]"
        self.values[placeholder] = value
        return placeholder


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _replace(redaction: Redaction, pattern: re.Pattern[str], kind: str, keep) -> None:
    def sub(match: re.Match[str]) -> str:
        value = match.group(0)
        if not keep(match):
            return value
        return redaction.placeholder_for(kind, value.strip())

    redaction.text = pattern.sub(sub, redaction.text)


def _after_order_word(match: re.Match[str]) -> bool:
    return bool(_ORDER_CONTEXT.search(match.string[max(0, match.start() - 16) : match.start()]))


def _is_card(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    return 13 <= len(digits) <= 19 and _luhn_ok(digits) and not _after_order_word(match)


def _is_phone(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    return 8 <= len(digits) <= 15 and not _after_order_word(match)


def pii_redact(text: str, *, known: Iterable[str] = ()) -> Redaction:
    """Replace personal data in ``text``. ``known`` are values we hold (the order's street lines)."""
    redaction = Redaction(text or "")
    for value in sorted({v.strip() for v in known if v and len(v.strip()) >= 5}, key=len, reverse=True):
        if value.lower() in redaction.text.lower():
            placeholder = redaction.placeholder_for("ADDRESS", value)
            redaction.text = re.sub(re.escape(value), placeholder, redaction.text, flags=re.IGNORECASE)
    _replace(redaction, _EMAIL, "EMAIL", lambda m: True)
    _replace(redaction, _CARD, "CARD", _is_card)
    _replace(redaction, _ADDRESS, "ADDRESS", lambda m: True)
    _replace(redaction, _PHONE, "PHONE", _is_phone)
    return redaction


def _masked_card(value: str) -> str:
    return "•••• " + re.sub(r"\D", "", value)[-4:]


def pii_restore(text: str, values: dict[str, str]) -> str:
    """Put the originals back; card numbers come back masked. Unknown placeholders are left as they are."""

    def sub(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        original = values.get(placeholder)
        if original is None:
            return placeholder
        return _masked_card(original) if placeholder.startswith("[CARD_") else original

    return re.sub(r"\[(?:EMAIL|PHONE|CARD|ADDRESS)_\d+\]", sub, text or "")
