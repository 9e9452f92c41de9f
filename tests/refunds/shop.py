"""Orders and cases for the refund/return tests (fixtures are in conftest.py).

Orders are built from the lab's fulfilled, fully charged order (d_return_with_refund: 2 × Monospace Tee at
20 USD, one FULFILLED fulfilment, 40 USD charged by the Dummy Payment App) with fresh ids and timestamps.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, CaseReason, Installation
from saleor_support_plugin.services.cases import case_open
from tests.fixtures.recordings import RECORDED_APP_ID, recorded
from tests.fixtures.saleor_store import global_id, order_like, transaction_like

TOKEN = "refund-app-token"
APP_ID = RECORDED_APP_ID
CUSTOMER = "return.customer@example.com"
STAFF = Actor.staff(email="agent@shop.example.com", user_id="VXNlcjo3")
TEMPLATE = "ORDER_FULFILLED-d_return_with_refund.json"
APPAREL = {"id": global_id("ProductType", 1), "name": "Apparel"}
HYGIENE = {"id": global_id("ProductType", 2), "name": "Hygiene"}
_numbers = itertools.count(5000)


def _line(template: dict, *, name: str, sku: str, quantity: int, unit: str, kind: dict) -> dict:
    line = copy.deepcopy(template)
    price = {"amount": float(Decimal(unit)), "currency": "USD"}
    total = {"amount": float(Decimal(unit) * quantity), "currency": "USD"}
    line.update(
        id=global_id("OrderLine", uuid.uuid4()),
        productName=name,
        productSku=sku,
        quantity=quantity,
        quantityFulfilled=quantity,
        quantityToFulfill=0,
        unitPrice={"gross": price, "net": price},
        totalPrice={"gross": total, "net": total},
    )
    line["variant"] = {"id": global_id("ProductVariant", uuid.uuid4()), "sku": sku}
    line["variant"]["product"] = {"id": global_id("Product", uuid.uuid4()), "productType": kind}
    return line


def put_order(
    saleor,
    *,
    email: str = CUSTOMER,
    fulfilled_days_ago: float = 3,
    soap: bool = False,
    behaviour: str = "async",
    extra_charges: tuple[str, ...] = (),
) -> dict:
    """A fulfilled, fully charged order in Saleor: 2 × Monospace Tee at 20 (and 1 × Soap at 10 if ``soap``).

    Returns the order as Saleor serves it. ``behaviour`` is how the payment app answers refund requests;
    ``extra_charges`` adds further small charged transactions (for choosing among several).
    """
    recorded_order = recorded(TEMPLATE).body["order"]
    at = timezone.now() - timedelta(days=fulfilled_days_ago)
    order = order_like(recorded_order, number=next(_numbers), updated_at=at)
    order["userEmail"] = email
    template = recorded_order["lines"][0]
    lines = [_line(template, name="Monospace Tee", sku="328223580", quantity=2, unit="20", kind=APPAREL)]
    if soap:
        lines.append(_line(template, name="Soap", sku="SOAP-1", quantity=1, unit="10", kind=HYGIENE))
    order["lines"] = lines
    fulfillment = order["fulfillments"][0]
    fulfillment["id"] = global_id("Fulfillment", uuid.uuid4())
    fulfillment["lines"] = [
        {
            "id": global_id("FulfillmentLine", uuid.uuid4()),
            "quantity": line["quantity"],
            "orderLine": {"id": line["id"], "productSku": line["productSku"]},
        }
        for line in lines
    ]
    total = sum(Decimal(str(line["totalPrice"]["gross"]["amount"])) for line in lines)
    money = {"amount": float(total), "currency": "USD"}
    order["total"] = {"gross": money, "net": money}
    tx = transaction_like(recorded_order["transactions"][0], at=at - timedelta(minutes=1))
    tx["chargedAmount"] = {"amount": float(total), "currency": "USD"}
    transactions = [tx]
    for amount in extra_charges:
        extra = transaction_like(recorded_order["transactions"][0], at=at - timedelta(minutes=2))
        extra["chargedAmount"] = {"amount": float(Decimal(amount)), "currency": "USD"}
        transactions.append(extra)
    order["transactions"] = transactions
    saleor.put_order(order)
    for item in transactions:
        saleor.mutations.refund_behaviour[item["id"]] = behaviour
    return saleor.store.order_view(order["id"])


def open_case(installation: Installation, order: dict, *, reason: str = CaseReason.REFUND_REQUEST) -> Case:
    return case_open(
        installation=installation,
        subject=f"Refund for order #{order['number']}",
        reason=reason,
        actor=STAFF,
        customer_email=order["userEmail"],
        order_saleor_id=order["id"],
        order_number=order["number"],
        currency="USD",
    )


def event_types(case: Case) -> list[str]:
    return list(case.events.order_by("pk").values_list("type", flat=True))


def mutations(saleor) -> list[str]:
    return [op for op in saleor.operations() if op in ("RefundGrantCreate", "RefundGrantSend", "ReturnProducts")]
