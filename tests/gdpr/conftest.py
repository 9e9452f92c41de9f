"""Two shoppers with a full history in one shop, and the same first shopper in another shop."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saleor_support_plugin.events import RULE, Actor
from saleor_support_plugin.models import (
    Case,
    Customer,
    EventStatus,
    FeedbackKind,
    InboundEmail,
    Installation,
    TransactionSnapshot,
    WebhookEvent,
)
from saleor_support_plugin.services.cases import (
    case_assign,
    case_message_receive,
    case_note_add,
    case_open,
    case_reply,
    case_resolve,
    case_tag_add,
)
from saleor_support_plugin.services.notices import notice_queue
from tests.feedback import builders
from tests.graphql.conftest import gql  # noqa: F401 (the GraphQL client fixture, for the API tests here)

STAFF = Actor.staff(email="agent@shop.example.com", user_id="VXNlcjoy")
T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)
ANA = "ana@example.com"
ANA_NAME = "Ana Lima"
ANA_USER = "VXNlcjo0Mg=="
ADDRESS = {"firstName": "Ana", "lastName": "Lima", "streetAddress1": "Rua Augusta 1", "city": "Lisboa"}


@dataclass
class Shop:
    installation: Installation
    ana_case: Case
    ana_rule_case: Case
    bob_case: Case
    pending_event: WebhookEvent


def _history(installation: Installation, *, with_bob: bool) -> Shop:
    ana = Actor.customer(email=ANA)
    case = case_open(
        installation=installation,
        subject="Parcel for Ana Lima",
        source="storefront",
        actor=ana,
        customer_email=ANA,
        customer_name=ANA_NAME,
        saleor_user_id=ANA_USER,
        first_message="Hi, I am Ana Lima, Rua Augusta 1, Lisboa. Where is my parcel?",
        order_saleor_id="O-ana",
        order_number="1042",
        at=T0,
    )
    case_assign(case=case, assignee_user_id="VXNlcjoy", assignee_email="agent@shop.example.com", actor=STAFF)
    case_tag_add(case=case, tag="vip", actor=STAFF)
    case_note_add(case=case, body="Ana Lima called twice, be gentle.", actor=STAFF)
    case_reply(case=case, body="Dear Ana Lima, it ships tomorrow.", actor=STAFF, at=T0 + timedelta(hours=1))
    message = case_message_receive(
        case=case,
        body="Thanks! Ana",
        channel="email",
        author_email=ANA,
        author_name=ANA_NAME,
        subject="Re: parcel",
        email_message_id="<ana-1@mail.example.com>",
        at=T0 + timedelta(hours=2),
    )
    InboundEmail.objects.create(installation=installation, email_message_id=message.email_message_id, message=message)
    case = case_resolve(case=case, actor=STAFF, at=T0 + timedelta(hours=3))
    builders.answer(
        installation,
        FeedbackKind.CSAT,
        5,
        answered_at=T0 + timedelta(hours=4),
        case=case,
        customer=case.customer,
        comment="Ana here: lovely service",
        created_at=T0 + timedelta(hours=3),
    )
    rule_case = case_open(
        installation=installation,
        subject="Payment failed on order 1043",
        reason="payment_issue",
        source="auto",
        actor=RULE,
        rule="order_payment_failed",
        customer_email=ANA,
        order_saleor_id="O-ana-2",
        order_number="1043",
        value_at_risk=Decimal("49.90"),
        currency="EUR",
        at=T0,
    )
    notice_queue(case=rule_case, rule="order_payment_failed", facts={})
    builders.answer(
        installation,
        FeedbackKind.NPS,
        None,
        answered_at=None,
        to_email=ANA,
        order_saleor_id="O-ana",
        email_status="queued",
        created_at=T0,
    )
    builders.order(
        installation,
        "O-ana",
        at=T0,
        user_email="Ana@Example.com",
        saleor_user_id=ANA_USER,
        shipping_address=ADDRESS,
        events=[{"type": "PLACED", "user": {"email": ANA}}],
        channel_slug="default",
        fulfillments=[builders.fulfillment(T0)],
    )
    builders.checkout(installation, "C-ana", at=T0, email=ANA, shipping_address=ADDRESS)
    TransactionSnapshot.objects.create(
        installation=installation,
        saleor_id="TX-ana",
        order_saleor_id="O-ana",
        version_stamp=T0,
        version_issued_at=T0,
    )
    raw = json.dumps({"order": {"id": "O-ana", "userEmail": ANA, "shippingAddress": ADDRESS}})
    for n, (object_id, status) in enumerate(
        [("O-ana", EventStatus.PROCESSED), ("TX-ana", EventStatus.FAILED), ("O-ana", EventStatus.RECEIVED)]
    ):
        pending = WebhookEvent.objects.create(
            installation=installation,
            event_type="ORDER_UPDATED",
            dedupe_key=f"{installation.pk}-{n}",
            raw_body=raw,
            object_id=object_id,
            status=status,
        )
    bob_case = None
    if with_bob:
        bob_case = case_open(
            installation=installation,
            subject="Invoice please",
            source="email",
            actor=Actor.customer(email="bob@x.com"),
            customer_email="bob@x.com",
            customer_name="Bob Stone",
            first_message="Invoice for order 77, Bob Stone",
            order_saleor_id="O-bob",
            at=T0,
        )
        # Ana writes on Bob's case (she forwarded his mail): only her message is hers
        case_message_receive(case=bob_case, body="Ana Lima: he is my husband", channel="email", author_email=ANA)
        builders.order(installation, "O-bob", at=T0, user_email="bob@x.com", shipping_address={"city": "Porto"})
    return Shop(installation, case, rule_case, bob_case, pending)  # fmt: skip


@pytest.fixture
def shop(test_installation) -> Shop:
    return _history(test_installation, with_bob=True)


@pytest.fixture
def elsewhere(db) -> Shop:
    """The same shopper, with the same address, in another shop: never touched by the first shop's requests."""
    return _history(builders.other_shop(), with_bob=False)


def customer_rows(installation: Installation) -> list[Customer]:
    return list(Customer.objects.filter(installation=installation).order_by("pk"))
