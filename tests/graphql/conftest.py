"""GraphQL test helpers: Saleor-signed tokens, two installations, and a client for both endpoints.

Installation A is ``test_installation`` (JWKS = tests/keys); installation B is another Saleor with its
own freshly generated key, so "a token of another installation" is signed by a genuinely different key.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Installation, OrderSnapshot
from saleor_support_plugin.services.cases import case_open
from tests.conftest import make_installation
from tests.fixtures.signing import TEST_KID, test_private_key

OTHER_API_URL = "https://other.example.com/graphql/"
OTHER_APP_ID = "QXBwOjk="
OTHER_KID = "other-key-1"
ALL_STAFF_PERMISSIONS = ("MANAGE_ORDERS", "HANDLE_PAYMENTS", "MANAGE_USERS")
ORDER_A = "T3JkZXI6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDBh"  # Order:00000000-0000-4000-8000-00000000000a


@cache
def other_key() -> tuple[bytes, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return pem, {"keys": [{**jwk, "kid": OTHER_KID, "alg": "RS256", "use": "sig"}]}


def mint(claims: dict, *, key: bytes | None = None, kid: str = TEST_KID) -> str:
    return jwt.encode(claims, key or test_private_key(), algorithm="RS256", headers={"kid": kid})


def dashboard_token(
    installation: Installation,
    *,
    permissions: tuple[str, ...] = ALL_STAFF_PERMISSIONS,
    email: str = "staff@example.com",
    user_id: str = "VXNlcjox",
    expires_in: int = 300,
    key: bytes | None = None,
    kid: str = TEST_KID,
    **overrides: object,
) -> str:
    """A Dashboard ``thirdparty`` token as Saleor's ``_create_access_token_for_third_party_actions`` makes it."""
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + expires_in,
        "iss": installation.saleor_api_url,
        "owner": "saleor",
        "type": "thirdparty",
        "app": installation.app_id,
        "email": email,
        "user_id": user_id,
        "is_staff": True,
        "token": "user-jwt-key",
        "user_permissions": list(permissions),
        "permissions": [p for p in permissions if p in ("MANAGE_ORDERS", "HANDLE_PAYMENTS")],
        **overrides,
    }
    return mint(claims, key=key, kid=kid)


def customer_token(
    installation: Installation,
    *,
    email: str,
    user_id: str = "VXNlcjo1",
    expires_in: int = 300,
    key: bytes | None = None,
    kid: str = TEST_KID,
    **overrides: object,
) -> str:
    """A customer ``access`` token as ``tokenCreate`` returns it (``jwt_user_payload``)."""
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + expires_in,
        "iss": installation.saleor_api_url,
        "owner": "saleor",
        "type": "access",
        "email": email,
        "user_id": user_id,
        "is_staff": False,
        "token": "user-jwt-key",
        **overrides,
    }
    return mint(claims, key=key, kid=kid)


def staff_headers(installation: Installation, token: str | None = None, **token_kw: object) -> dict:
    return {
        "HTTP_SALEOR_API_URL": installation.saleor_api_url,
        "HTTP_AUTHORIZATION_BEARER": token if token is not None else dashboard_token(installation, **token_kw),
    }


def shopper_headers(installation: Installation, token: str) -> dict:
    return {"HTTP_SALEOR_API_URL": installation.saleor_api_url, "HTTP_AUTHORIZATION": f"Bearer {token}"}


def guest_headers(installation: Installation, *, order_id: str, email: str) -> dict:
    return {
        "HTTP_SALEOR_API_URL": installation.saleor_api_url,
        "HTTP_SUPPORT_GUEST_ORDER_ID": order_id,
        "HTTP_SUPPORT_GUEST_EMAIL": email,
    }


@dataclass
class GqlResponse:
    status: int
    body: dict = field(default_factory=dict)

    @property
    def data(self) -> dict | None:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict]:
        return self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]


@pytest.fixture
def gql(client):
    """``gql("staff"|"shopper", query, variables, headers)`` → GqlResponse."""

    def run(schema: str, query: str, variables: dict | None = None, headers: dict | None = None) -> GqlResponse:
        response = client.post(
            f"/graphql/{schema}/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **(headers or {}),
        )
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.content.decode(errors="replace")}
        return GqlResponse(response.status_code, body)

    return run


@pytest.fixture
def other_installation(db) -> Installation:
    return make_installation(api_url=OTHER_API_URL, app_id=OTHER_APP_ID, jwks=other_key()[1])


def make_order(
    installation: Installation, *, saleor_id: str = ORDER_A, number: str = "1001", **fields
) -> OrderSnapshot:
    now = timezone.now()
    defaults = {
        "number": number,
        "status": "UNFULFILLED",
        "charge_status": "FULL",
        "currency": "USD",
        "user_email": "ana@example.com",
        "channel_slug": "default-channel",
        "total_gross": Decimal("80"),
        "total_charged": Decimal("80"),
        "saleor_created_at": now,
        "saleor_updated_at": now,
        "version_stamp": now,
        "version_issued_at": now,
        "lines": [
            {
                "id": "T3JkZXJMaW5lOjE=",
                "productName": "Mug",
                "variantName": "Blue",
                "productSku": "MUG-1",
                "quantity": 2,
                "quantityFulfilled": 0,
                "unitPrice": {"gross": {"amount": 40, "currency": "USD"}},
            }
        ],
    }
    return OrderSnapshot.objects.create(installation=installation, saleor_id=saleor_id, **{**defaults, **fields})


def make_case(installation: Installation, *, email: str = "ana@example.com", order: OrderSnapshot | None = None, **kw):
    return case_open(
        installation=installation,
        subject=kw.pop("subject", "Where is my order?"),
        actor=Actor.customer(email=email),
        customer_email=email,
        source=kw.pop("source", "storefront"),
        order_saleor_id=order.saleor_id if order else "",
        order_number=order.number if order else "",
        first_message=kw.pop("first_message", "Hello, where is it?"),
        **kw,
    )


def saleor_order(*, order_id: str, email: str, number: int = 1001) -> dict:
    """A complete Saleor order (from a real recording) with our id and customer, for FakeSaleor's store."""
    from tests.fixtures.recordings import recorded
    from tests.fixtures.saleor_store import order_like

    template = recorded("ORDER_CREATED-c_paid_order_from_checkout.json").body["order"]
    order = order_like(template, number=number, updated_at=timezone.now().replace(microsecond=0))
    order.update(id=order_id, userEmail=email, user=None)
    return order


@pytest.fixture
def fake_saleor_pair(saleor_schema):
    """Two running FakeSaleors: ``a`` signs with the test key, ``b`` with another installation's key."""
    from tests.fixtures.saleor_double import FakeSaleor

    with FakeSaleor(schema=saleor_schema) as a, FakeSaleor(schema=saleor_schema, jwks=other_key()[1]) as b:
        yield a, b
    for fake in (a, b):
        if fake.invalid_documents:
            pytest.fail(f"documents Saleor would reject: {fake.invalid_documents}")
