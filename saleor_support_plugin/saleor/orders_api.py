"""Saleor's order, refund and return operations as typed calls (docs/saleor-integration §7).

Each function sends one document from ``saleor/queries``, parses the answer into the models below and
turns Saleor's payload ``errors`` into our error family: a clear ``SupportErrorCode`` on a
``PermanentError`` whose message keeps Saleor's own code and words. Transport problems and permission
denials are already translated by ``SaleorClient`` (``RetryableError`` / ``SALEOR_PERMISSION_DENIED``).
Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.saleor.client import SaleorClient
from saleor_support_plugin.saleor.models import Fulfillment, GrantedRefund, Order, OrderLine, TaxedMoney

Code = SupportErrorCode
M = TypeVar("M", bound=BaseModel)

# Fulfilment statuses Saleor accepts in orderFulfillmentReturnProducts (fulfillment_return_products.py).
RETURNABLE_FULFILLMENT = ("FULFILLED", "REFUNDED", "WAITING_FOR_APPROVAL")
RETURNED_FULFILLMENT = ("RETURNED", "REPLACED", "REFUNDED_AND_RETURNED")


class FulfillmentState(Fulfillment):
    reason: str | None = None


class OrderState(Order):
    """``RefundOrderState``: OrderDetails plus product types and fulfilment reasons."""

    shipping_price: TaxedMoney | None = None
    fulfillments: list[FulfillmentState] = []

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    @property
    def currency(self) -> str:
        return self.total.gross.currency if self.total else (self.channel.currency_code if self.channel else "")


def product_type(line: OrderLine) -> dict:
    """``{"id", "name"}`` of the line's product type, or ``{}`` when Saleor did not say (deleted variant)."""
    variant = line.variant or {}
    return ((variant.get("product") or {}).get("productType")) or {}


@dataclass(frozen=True)
class ReturnResult:
    return_fulfillment_id: str
    replace_fulfillment_id: str
    replace_order_id: str
    order: OrderState | None


def _parse(model: type[M], value: Any, what: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise PermanentError(Code.SALEOR_ERROR, f"{what}: Saleor's answer has an unexpected shape.") from exc


def _rejected(errors: list[dict], codes: dict[str, Code], fields: dict[str, str], what: str) -> PermanentError:
    """The first payload error as our error; a per-line error (grant lines) wins over its generic parent."""
    first = errors[0]
    line_errors = [line for e in errors for line in (e.get("lines") or [])]
    source = line_errors[0] if line_errors else first
    saleor_code = str(source.get("code") or "")
    field = "lines" if line_errors else fields.get(str(first.get("field") or ""))
    message = f"{source.get('message') or what + ' was refused'} (Saleor {saleor_code})"
    return PermanentError(codes.get(saleor_code, Code.SALEOR_ERROR), message, field=field)


GRANT_CODES = {
    "AMOUNT_GREATER_THAN_AVAILABLE": Code.REFUND_AMOUNT_EXCEEDS_CHARGED,
    "QUANTITY_GREATER_THAN_AVAILABLE": Code.REFUND_QUANTITY_EXCEEDS_AVAILABLE,
    "SHIPPING_COSTS_ALREADY_GRANTED": Code.SHIPPING_ALREADY_REFUNDED,
    "NOT_FOUND": Code.NOT_FOUND,
    "REQUIRED": Code.REQUIRED,
    "INVALID": Code.INVALID,
}
GRANT_FIELDS = {"amount": "amount", "lines": "lines", "grantRefundForShipping": "include_shipping"}
SEND_CODES = {
    "REFUND_IS_PENDING": Code.REFUND_PENDING,
    "REFUND_ALREADY_PROCESSED": Code.REFUND_ALREADY_PROCESSED,
    "AMOUNT_GREATER_THAN_AVAILABLE": Code.REFUND_AMOUNT_EXCEEDS_CHARGED,
    "MISSING_TRANSACTION_ACTION_REQUEST_WEBHOOK": Code.PAYMENT_APP_CANNOT_REFUND,
    "NOT_FOUND": Code.NOT_FOUND,
    "INVALID": Code.INVALID,
}
RETURN_CODES = {
    "INVALID_QUANTITY": Code.RETURN_QUANTITY_EXCEEDED,
    "CANNOT_REFUND": Code.CANNOT_REFUND,
    "GIFT_CARD_LINE": Code.ITEM_NOT_RETURNABLE,
    "MISSING_TRANSACTION_ACTION_REQUEST_WEBHOOK": Code.PAYMENT_APP_CANNOT_REFUND,
    "NOT_FOUND": Code.NOT_FOUND,
    "INVALID": Code.INVALID,
}


def order_state_fetch(client: SaleorClient, *, order_id: str) -> OrderState:
    """The order as Saleor holds it now. Raises NOT_FOUND when Saleor does not know it."""
    data = client.execute("RefundOrderState", {"id": order_id})
    if not data.get("order"):
        raise PermanentError(Code.NOT_FOUND, "Saleor does not know this order.", field="order")
    return _parse(OrderState, data["order"], "RefundOrderState")


def grant_create(
    client: SaleorClient,
    *,
    order_id: str,
    transaction_id: str,
    reason: str,
    amount: Decimal | None,
    lines: list[dict],
    include_shipping: bool,
) -> GrantedRefund:
    """``orderGrantRefundCreate``: a new grant (status NONE). Saleor computes the amount when none is given."""
    grant_input: dict[str, Any] = {"transactionId": transaction_id, "reason": reason}
    if amount is not None:
        grant_input["amount"] = format(amount, "f")
    if lines:
        grant_input["lines"] = [
            {"id": line["order_line_id"], "quantity": line["quantity"], "reason": line.get("reason") or None}
            for line in lines
        ]
    if include_shipping:
        grant_input["grantRefundForShipping"] = True
    payload = client.execute("RefundGrantCreate", {"order": order_id, "input": grant_input})["orderGrantRefundCreate"]
    if payload.get("errors"):
        raise _rejected(payload["errors"], GRANT_CODES, GRANT_FIELDS, "The refund grant")
    return _parse(GrantedRefund, payload.get("grantedRefund"), "RefundGrantCreate")


def grant_send(client: SaleorClient, *, grant_id: str) -> None:
    """``transactionRequestRefundForGrantedRefund``: Saleor asks the payment app to refund the grant."""
    payload = client.execute("RefundGrantSend", {"grant": grant_id})["transactionRequestRefundForGrantedRefund"]
    if payload.get("errors"):
        raise _rejected(payload["errors"], SEND_CODES, {}, "The refund request")


def return_products(client: SaleorClient, *, order_id: str, lines: list[dict], reason: str) -> ReturnResult:
    """``orderFulfillmentReturnProducts`` with ``refund: false``; ``lines`` are fulfilment-line inputs."""
    return_input = {"fulfillmentLines": lines, "refund": False, "reason": reason}
    payload = client.execute("ReturnProducts", {"order": order_id, "input": return_input})
    payload = payload["orderFulfillmentReturnProducts"]
    if payload.get("errors"):
        raise _rejected(payload["errors"], RETURN_CODES, {"fulfillmentLineId": "lines"}, "The return")
    order = _parse(OrderState, payload["order"], "ReturnProducts") if payload.get("order") else None
    return ReturnResult(
        return_fulfillment_id=(payload.get("returnFulfillment") or {}).get("id", ""),
        replace_fulfillment_id=(payload.get("replaceFulfillment") or {}).get("id", ""),
        replace_order_id=(payload.get("replaceOrder") or {}).get("id", ""),
        order=order,
    )
