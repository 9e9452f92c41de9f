"""The webhook signature check (cryptography directly) accepts and refuses exactly what PyJWT's decoder would,
pinned to RS256 with b64=false, and a few malformed things more."""

from __future__ import annotations

import base64
import json
import random

import jwt
import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.saleor.auth import UnknownKeyError, _key_for, jws_kid, jws_verify_detached
from tests.fixtures import signing
from tests.fixtures.recordings import recorded_jwks, recorded_webhooks
from tests.fixtures.signing import TEST_KID, sign_detached

BODY = b'{"recipient": {"id": "QXBwOjc="}, "order": {"id": "T3JkZXI6MQ=="}}'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pyjwt_accepts(signature: str, raw_body: bytes, jwks: dict) -> bool:
    """The previous implementation, as the oracle."""
    try:
        header = jwt.get_unverified_header(signature)
        if header.get("alg") != "RS256" or header.get("b64") is not False or not header.get("kid"):
            return False
        key = _key_for(jwks, str(header["kid"]))
        jwt.api_jws.decode_complete(signature, key=key, algorithms=["RS256"], detached_payload=raw_body)
    except (jwt.PyJWTError, UnknownKeyError):
        return False
    return True


def _accepts(signature: str, raw_body: bytes, jwks: dict) -> bool:
    try:
        jws_verify_detached(signature=signature, raw_body=raw_body, jwks=jwks)
    except (PermanentError, UnknownKeyError):
        return False
    return True


def _sign(header: dict, raw_body: bytes = BODY) -> str:
    """Sign ``b64url(header) + "." + body`` with the test key, whatever the header says."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    segment = _b64(json.dumps(header).encode())
    key = load_pem_private_key(signing.test_private_key(), password=None)
    return f"{segment}..{_b64(key.sign(segment.encode() + b'.' + raw_body, padding.PKCS1v15(), hashes.SHA256()))}"


GOOD = {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": TEST_KID, "typ": "JWT"}


def test_every_recorded_saleor_signature_verifies_and_a_flipped_byte_does_not():
    for hook in recorded_webhooks():
        signature = hook.headers["Saleor-Signature"]
        assert _accepts(signature, hook.raw_body, recorded_jwks()), hook.name
        assert not _accepts(signature, hook.raw_body[:-1] + b" ", recorded_jwks()), hook.name


@pytest.mark.parametrize(
    "header",
    [
        {**GOOD, "alg": "RS512"},
        {**GOOD, "alg": "HS256"},
        {**GOOD, "alg": "none"},
        {k: v for k, v in GOOD.items() if k != "alg"},
        {**GOOD, "b64": True},
        {k: v for k, v in GOOD.items() if k != "b64"},
        {k: v for k, v in GOOD.items() if k != "crit"},
        {**GOOD, "crit": []},
        {**GOOD, "crit": "b64"},
        {**GOOD, "crit": ["b64", "exp"], "exp": 1},
        {**GOOD, "crit": ["b64", 1]},
        {**GOOD, "kid": ""},
        {**GOOD, "kid": 7},
    ],
    ids=repr,
)
def test_headers_other_than_detached_rs256_are_refused(header):
    signature = _sign(header)
    assert not _accepts(signature, BODY, signing.test_jwks())
    assert not _pyjwt_accepts(signature, BODY, signing.test_jwks())


def test_well_formed_signature_is_accepted_and_names_its_key():
    signature = _sign(GOOD)
    assert _accepts(signature, BODY, signing.test_jwks()) and _pyjwt_accepts(signature, BODY, signing.test_jwks())
    assert jws_kid(signature) == TEST_KID
    assert _accepts(sign_detached(BODY), BODY, signing.test_jwks())


def test_unknown_kid_is_reported_for_a_refetch():
    with pytest.raises(UnknownKeyError):
        jws_verify_detached(signature=_sign({**GOOD, "kid": "rotated"}), raw_body=BODY, jwks=signing.test_jwks())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h, p, s: f"{h}.{_b64(BODY)}.{s}",  # attached payload where it must be detached
        lambda h, p, s: f"{h}..{s}.",
        lambda h, p, s: f"{h}.{s}",
        lambda h, p, s: f"..{s}",
        lambda h, p, s: f"{h}..",
        lambda h, p, s: f"{h}..{s}!",
        lambda h, p, s: f"{h}..{s[:-1]}",
        lambda h, p, s: f"{h}..{s}A",
        lambda h, p, s: f"{h}..{s}===",
        lambda h, p, s: f"{h}!..{s}",
        lambda h, p, s: f"{h[:-1]}..{s}",
        lambda h, p, s: f"{h}..{s.replace('-', '+').replace('_', '/')}" if ("-" in s or "_" in s) else "x",
    ],
)
def test_malformed_compact_forms_are_refused(mangle):
    header, payload, sig = _sign(GOOD).split(".")
    signature = mangle(header, payload, sig)
    assert not _accepts(signature, BODY, signing.test_jwks())
    assert not _pyjwt_accepts(signature, BODY, signing.test_jwks())


def test_random_single_character_changes_agree_with_pyjwt():
    signature = _sign(GOOD)
    rng = random.Random(5)
    alphabet = "ABCxyz019-_=.+/!"
    for _ in range(300):
        i = rng.randrange(len(signature))
        mutated = signature[:i] + rng.choice(alphabet) + signature[i + 1 :]
        expected = _pyjwt_accepts(mutated, BODY, signing.test_jwks())
        assert _accepts(mutated, BODY, signing.test_jwks()) is expected, mutated
