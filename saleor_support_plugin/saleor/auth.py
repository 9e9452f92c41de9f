"""Verify what Saleor signs: detached RS256 JWS on webhooks (docs §4.2).

Uses PyJWT; the algorithm is pinned to RS256 and never taken from the header.
"""

from __future__ import annotations

import json
from functools import lru_cache

import jwt
from jwt import PyJWK, api_jws

from saleor_support_plugin.errors import PermanentError, SupportErrorCode


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


def jws_kid(signature: str) -> str:
    try:
        header = jwt.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise _invalid("Saleor-Signature is not a JWS.") from exc
    if header.get("alg") != "RS256" or header.get("b64") is not False or not header.get("kid"):
        raise _invalid("Saleor-Signature must be a detached RS256 JWS with b64=false and a kid.")
    return str(header["kid"])


def jws_verify_detached(*, signature: str, raw_body: bytes, jwks: dict) -> None:
    """Raise unless ``signature`` signs exactly ``raw_body`` with a key from ``jwks``.

    Raises ``UnknownKeyError`` when the key id is not in ``jwks`` so the caller can refetch once.
    """
    kid = jws_kid(signature)
    key = _key_for(jwks, kid)
    try:
        api_jws.decode_complete(signature, key=key, algorithms=["RS256"], detached_payload=raw_body)
    except jwt.PyJWTError as exc:
        raise _invalid("Saleor-Signature does not match the body.") from exc
