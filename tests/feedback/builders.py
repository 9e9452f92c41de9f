"""Hand-built rows for the feedback, metrics and GDPR tests: every timestamp is chosen by the test."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from saleor_support_plugin.models import (
    Case,
    CaseEvent,
    CheckoutSnapshot,
    Customer,
    FeedbackRequest,
    Installation,
    OrderSnapshot,
)
from tests.conftest import make_installation

_numbers = itertools.count(1)


def other_shop() -> Installation:
    return make_installation(api_url="https://other-shop.example.org/graphql/", app_id="QXBwOjk=")


def customer(installation: Installation, email: str = "ana@example.com", **kw) -> Customer:
    return Customer.objects.create(installation=installation, email=email, **kw)


def case(installation: Installation, *, created_at: datetime, resolver: str = "", **kw) -> Case:
    """A case as the services would leave it; ``resolver`` writes the case_resolved event (rule/staff/customer)."""
    row = Case.objects.create(
        installation=installation,
        number=kw.pop("number", None) or next(_numbers),
        subject=kw.pop("subject", "Where is my parcel?"),
        reply_token=secrets.token_hex(12),
        created_at=created_at,
        **kw,
    )
    if resolver:
        CaseEvent.objects.create(installation=installation, case=row, type="case_resolved", actor_type=resolver)
    return row


def answer(
    installation: Installation, kind: str, score: int | None, *, answered_at: datetime | None, **kw
) -> FeedbackRequest:
    created = kw.pop("created_at", answered_at or datetime.fromisoformat("2026-11-01T00:00:00+00:00"))
    return FeedbackRequest.objects.create(
        installation=installation,
        kind=kind,
        token=secrets.token_urlsafe(24),
        to_email=kw.pop("to_email", "ana@example.com"),
        score=score,
        answered_at=answered_at,
        created_at=created,
        expires_at=created + timedelta(days=30),
        **kw,
    )


def fulfillment(created: datetime, *, status: str = "FULFILLED", delivered_at: datetime | None = None) -> dict:
    metadata = [{"key": "delivered_at", "value": delivered_at.isoformat()}] if delivered_at else []
    return {"id": secrets.token_hex(4), "status": status, "created": created.isoformat(), "metadata": metadata}


def order(installation: Installation, saleor_id: str, *, at: datetime, **kw) -> OrderSnapshot:
    fulfillments = kw.pop("fulfillments", [])
    return OrderSnapshot.objects.create(
        installation=installation,
        saleor_id=saleor_id,
        version_stamp=at,
        version_issued_at=at,
        number=kw.pop("number", saleor_id[-4:]),
        status=kw.pop("status", "FULFILLED"),
        fulfillments=fulfillments,
        first_fulfilled_at=kw.pop(
            "first_fulfilled_at", min((datetime.fromisoformat(f["created"]) for f in fulfillments), default=None)
        ),
        saleor_created_at=at,
        total_gross=kw.pop("total_gross", Decimal("49.90")),
        **kw,
    )


def checkout(installation: Installation, saleor_id: str, *, at: datetime, **kw) -> CheckoutSnapshot:
    return CheckoutSnapshot.objects.create(
        installation=installation, saleor_id=saleor_id, version_stamp=at, version_issued_at=at, **kw
    )
