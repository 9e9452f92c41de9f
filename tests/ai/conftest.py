from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, Message, OrderSnapshot
from saleor_support_plugin.services.ai_settings import llm_provider_set
from saleor_support_plugin.services.cases import case_open
from tests.ai.fake_openai import FakeOpenAI


@pytest.fixture
def fake_llm():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def llm_provider(test_installation, fake_llm):
    return llm_provider_set(
        installation=test_installation,
        model="fake-model",
        base_url=fake_llm.base_url,
        api_key="sk-test-key",
        timeout_seconds=0.6,
        input_cost_per_million=Decimal("0.15"),
        output_cost_per_million=Decimal("0.60"),
    )


def order_snapshot(installation, *, saleor_id="T3JkZXI6MQ==", tracking="1Z999AA10123456784", **fields) -> OrderSnapshot:
    now = timezone.now()
    defaults = {
        "number": "1042",
        "status": "FULFILLED" if tracking else "UNFULFILLED",
        "currency": "EUR",
        "total_gross": Decimal("89.90"),
        "is_paid": True,
        "saleor_created_at": now,
        "lines": [{"productName": "Rain jacket", "quantity": 1}],
        "fulfillments": [{"status": "FULFILLED", "trackingNumber": tracking, "created": now.isoformat()}]
        if tracking
        else [],
        "shipping_address": {"streetAddress1": "Rua das Flores 123", "city": "Lisboa", "country": {"code": "PT"}},
    }
    defaults.update(fields)
    return OrderSnapshot.objects.create(
        installation=installation, saleor_id=saleor_id, version_stamp=now, version_issued_at=now, **defaults
    )


def open_case(installation, text: str, *, order: OrderSnapshot | None = None, **kw) -> tuple[Case, Message]:
    case = case_open(
        installation=installation,
        subject=kw.pop("subject", "Question"),
        source="storefront",
        actor=Actor.customer(email="ana@example.com"),
        customer_email="ana@example.com",
        customer_name="Ana Silva",
        first_message=text,
        order_saleor_id=order.saleor_id if order else "",
        order_number=order.number if order else "",
        **kw,
    )
    return case, Message.objects.get(case=case)
