"""Verify what Saleor signs: detached RS256 JWS on webhooks (docs §4.2).

The webhook signature is checked with ``cryptography`` directly (PyJWT's general decoder cost 4× the RSA
verification itself on every webhook); PyJWT still parses the JWKs. The rules are PyJWT's, and stricter:
the algorithm is pinned to RS256 and never taken from the header, ``b64`` must be false, ``crit`` must be
exactly the extensions we understand and name ``b64``, the compact payload segment must be empty, and the
signature must be canonical base64url. What is verified is RFC 7797's signing input for ``b64: false``:
``ASCII(BASE64URL(header)) || "." || raw body``, with RSASSA-PKCS1-v1_5 and SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK

from saleor_support_plugin.errors import PermanentError, SupportErrorCode

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_SUPPORTED_CRIT = frozenset({"b64"})
_MAX_HEADER_SEGMENT = 2048
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


class UnknownKeyError(Exception):
    """The signature names a ``kid`` the cached JWKS does not have (maybe Saleor rotated keys)."""


def _invalid(message: str) -> PermanentError:
    return PermanentError(SupportErrorCode.INVALID_SIGNATURE, message)


@lru_cache(maxsize=256)
def _public_key(jwk_json: str):
    return PyJWK.from_json(jwk_json).key


def _key_for(jwks: dict, kid: str):
    for jwk in jwks.get("keys", []):
        if jwk.get("kid") == kid:
            # Parsing an RSA key costs ~50 µs; cache by the exact JWK so rotation needs no invalidation.
            return _public_key(json.dumps(jwk, sort_keys=True))
    raise UnknownKeyError(kid)


def _b64url_decode(segment: str) -> bytes | None:
    """Strict base64url (RFC 7515 §2), None unless ``segment`` is the canonical encoding. Like PyJWT, correct
    trailing ``=`` padding is tolerated (some issuers add it); anything else outside the alphabet is not."""
    stripped = segment.rstrip("=")
    padding_chars = len(segment) - len(stripped)
    if padding_chars > 2 or (padding_chars and len(segment) % 4):
        return None
    if len(stripped) % 4 == 1 or not _BASE64URL.fullmatch(stripped):
        return None
    try:
        data = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        return None
    # Non-zero unused bits would decode to the same bytes: only the canonical spelling is accepted.
    return data if base64.urlsafe_b64encode(data).rstrip(b"=") == stripped.encode() else None


@lru_cache(maxsize=64)
def _detached_header_kid(header_segment: str) -> str:
    """Check a protected header once per distinct spelling (Saleor sends the same one for every webhook)."""
    raw = _b64url_decode(header_segment)
    if raw is None:
        raise _invalid("Saleor-Signature is not a JWS.")
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _invalid("Saleor-Signature is not a JWS.") from None
    if not isinstance(header, dict):
        raise _invalid("Saleor-Signature is not a JWS.")
    kid = header.get("kid")
    crit = header.get("crit")
    if (
        header.get("alg") != "RS256"
        or header.get("b64") is not False
        or not isinstance(kid, str)
        or not kid
        or not isinstance(crit, list)
        or "b64" not in crit
        or not all(isinstance(ext, str) and ext in _SUPPORTED_CRIT and ext in header for ext in crit)
    ):
        raise _invalid("Saleor-Signature must be a detached RS256 JWS with b64=false and a kid.")
    return kid


def _split(signature: str) -> tuple[str, bytes]:
    """``<header>..<signature>`` → (header segment, signature bytes), or raise INVALID_SIGNATURE."""
    parts = signature.split(".") if isinstance(signature, str) else ()
    if len(parts) != 3 or not parts[0] or len(parts[0]) > _MAX_HEADER_SEGMENT:
        raise _invalid("Saleor-Signature is not a JWS.")
    if parts[1]:
        raise _invalid("Saleor-Signature must be a detached JWS (empty payload segment).")
    sig = _b64url_decode(parts[2])
    if not sig:
        raise _invalid("Saleor-Signature is not a JWS.")
    return parts[0], sig


def jws_kid(signature: str) -> str:
    header_segment, _ = _split(signature)
    return _detached_header_kid(header_segment)


def jws_verify_detached(*, signature: str, raw_body: bytes, jwks: dict) -> None:
    """Raise unless ``signature`` signs exactly ``raw_body`` with a key from ``jwks``.

    Raises ``UnknownKeyError`` when the key id is not in ``jwks`` so the caller can refetch once.
    """
    header_segment, sig = _split(signature)
    key = _key_for(jwks, _detached_header_kid(header_segment))
    if not isinstance(key, RSAPublicKey):
        raise _invalid("The signing key is not an RSA key.")
    try:
        key.verify(sig, header_segment.encode("ascii") + b"." + raw_body, _PKCS1V15, _SHA256)
    except InvalidSignature:
        raise _invalid("Saleor-Signature does not match the body.") from None
