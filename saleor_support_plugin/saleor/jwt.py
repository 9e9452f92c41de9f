"""Verify the JWTs a Saleor issues: Dashboard app tokens and customer access tokens (docs §6.3, §8.1).

Both are RS256, signed with the same key as webhooks and published in the installation's JWKS. This module
only decodes against a given JWKS; looking up the installation and refetching its JWKS for an unknown key
id is the caller's job (``graphql/auth.py``), as it is for webhooks (``webhooks/verification.py``).

The algorithm is pinned to RS256 and never taken from the token header, so an ``alg: none`` or HS256
token signed with the public key is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.saleor.auth import UnknownKeyError, _key_for

# Saleor and we run on different clocks; tokens live 5 minutes, so a few seconds of skew is harmless.
LEEWAY_SECONDS = 10
MAX_TOKEN_LENGTH = 8192

TOKEN_TYPE_DASHBOARD = "thirdparty"
TOKEN_TYPE_CUSTOMER = "access"

__all__ = [
    "LEEWAY_SECONDS",
    "TOKEN_TYPE_CUSTOMER",
    "TOKEN_TYPE_DASHBOARD",
    "SaleorJwtClaims",
    "UnknownKeyError",
    "saleor_jwt_decode",
]


@dataclass(frozen=True, slots=True)
class SaleorJwtClaims:
    """The claims we rely on, parsed once. ``permissions`` is ``user_permissions`` (all the user's, SDK semantics)."""

    issuer: str
    token_type: str
    user_id: str
    email: str
    app_id: str
    permissions: frozenset[str]
    is_staff: bool


def _invalid(message: str) -> PermanentError:
    return PermanentError(SupportErrorCode.INVALID_TOKEN, message)


def _kid(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _invalid("The token is not a JWT.") from exc
    if header.get("alg") != "RS256" or not header.get("kid"):
        raise _invalid("The token must be RS256 with a key id.")
    return str(header["kid"])


def _claims(payload: dict) -> SaleorJwtClaims:
    permissions = payload.get("user_permissions") or []
    if not isinstance(permissions, list):
        raise _invalid("user_permissions must be a list.")
    return SaleorJwtClaims(
        issuer=str(payload.get("iss") or ""),
        token_type=str(payload.get("type") or ""),
        user_id=str(payload.get("user_id") or ""),
        email=str(payload.get("email") or "").strip().lower(),
        app_id=str(payload.get("app") or ""),
        permissions=frozenset(str(p) for p in permissions),
        is_staff=bool(payload.get("is_staff")),
    )


def saleor_jwt_decode(
    *, token: str, jwks: dict, issuer: str, token_type: str, audience: str | None = None
) -> SaleorJwtClaims:
    """Verify signature, ``exp``, ``iss`` (exact), ``type`` and, when given, ``aud``; return the claims.

    Raises ``UnknownKeyError`` when the key id is not in ``jwks`` (the caller may refetch once), and
    PermanentError with TOKEN_EXPIRED or INVALID_TOKEN otherwise.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _invalid("The token is missing or too long.")
    key = _key_for(jwks, _kid(token))
    try:
        payload = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY_SECONDS,
            # Without an expected audience PyJWT would refuse any token that carries one; Saleor adds
            # ``aud`` to Dashboard tokens when the manifest sets an audience, so only check it when asked.
            options={"require": ["exp", "iss"], "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise PermanentError(SupportErrorCode.TOKEN_EXPIRED, "The token has expired.") from exc
    except jwt.InvalidIssuerError as exc:
        raise _invalid("The token was issued by another Saleor.") from exc
    except jwt.InvalidAudienceError as exc:
        raise _invalid("The token was issued for another audience.") from exc
    except jwt.PyJWTError as exc:
        raise _invalid("The token signature or claims are invalid.") from exc
    claims = _claims(payload)
    if claims.token_type != token_type:
        raise _invalid(f"Expected a {token_type!r} token, got {claims.token_type!r}.")
    return claims
