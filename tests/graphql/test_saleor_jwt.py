"""saleor_jwt_decode: only RS256 tokens of the right Saleor, type and audience, signed by a published key."""

from __future__ import annotations

import time

import jwt
import pytest

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.saleor.jwt import saleor_jwt_decode
from tests.fixtures.signing import TEST_KID
from tests.fixtures.signing import test_jwks as signing_jwks
from tests.graphql.conftest import mint, other_key

ISSUER = "https://shop.example.com/graphql/"


def _claims(**overrides: object) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "iat": now, "exp": now + 300, "type": "thirdparty", "app": "QXBwOjc=",
            "email": "Staff@Example.com", "user_id": "VXNlcjox", "user_permissions": ["MANAGE_ORDERS"],
            **overrides}  # fmt: skip


def _decode(token: str, **kw):
    return saleor_jwt_decode(
        token=token, jwks=signing_jwks(), issuer=ISSUER, token_type=kw.pop("type", "thirdparty"), **kw
    )


def test_valid_dashboard_token_yields_its_claims():
    claims = _decode(mint(_claims()))
    assert claims.app_id == "QXBwOjc="
    assert claims.email == "staff@example.com"
    assert claims.permissions == frozenset({"MANAGE_ORDERS"})


def test_expired_token_is_token_expired_but_small_clock_skew_is_tolerated():
    with pytest.raises(PermanentError) as exc:
        _decode(mint(_claims(exp=int(time.time()) - 60)))
    assert exc.value.code == SupportErrorCode.TOKEN_EXPIRED
    assert _decode(mint(_claims(exp=int(time.time()) - 3))).app_id


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iss": "https://evil.example.com/graphql/"}, "another Saleor"),
        ({"iss": "https://shop.example.com/graphql"}, "iss must match exactly (no trailing slash)"),
        ({"type": "access"}, "a customer token is not a Dashboard token"),
        ({"type": "refresh"}, "a refresh token"),
        ({"exp": None}, "exp is required"),
        ({"user_permissions": "MANAGE_ORDERS"}, "permissions must be a list"),
    ],
)
def test_wrong_claims_are_invalid_token(claims, why):
    payload = {k: v for k, v in _claims(**claims).items() if v is not None}
    with pytest.raises(PermanentError) as exc:
        _decode(mint(payload))
    assert exc.value.code == SupportErrorCode.INVALID_TOKEN, why


def test_unknown_key_id_is_reported_so_the_caller_can_refetch():
    from saleor_support_plugin.saleor.auth import UnknownKeyError

    with pytest.raises(UnknownKeyError):
        _decode(mint(_claims(), key=other_key()[0], kid="rotated"))


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused():
    with pytest.raises(PermanentError) as exc:
        _decode(mint(_claims(), key=other_key()[0], kid=TEST_KID))
    assert exc.value.code == SupportErrorCode.INVALID_TOKEN


def test_algorithm_is_pinned_to_rs256():
    hs256 = jwt.encode(_claims(), "s" * 32, algorithm="HS256", headers={"kid": TEST_KID})
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": TEST_KID})
    for token in (hs256, unsigned, "not-a-jwt", ""):
        with pytest.raises(PermanentError) as exc:
            _decode(token)
        assert exc.value.code == SupportErrorCode.INVALID_TOKEN


def test_audience_is_checked_only_when_required():
    with_audience = mint(_claims(type="access", aud="custom:support"))
    # not required: a token with or without aud is fine
    assert _decode(with_audience, type="access").email == "staff@example.com"
    assert _decode(with_audience, type="access", audience="custom:support").email
    # required: a token without it, or for another audience, is refused
    for token in (mint(_claims(type="access")), mint(_claims(type="access", aud="custom:other"))):
        with pytest.raises(PermanentError) as exc:
            _decode(token, type="access", audience="custom:support")
        assert exc.value.code == SupportErrorCode.INVALID_TOKEN
