"""Who is calling: a Dashboard staff user, a signed-in customer, or a guest with an order proof.

Runs once per request, before GraphQL executes (``graphql/views.py``); a failure answers HTTP 401 (503
when Saleor's JWKS or API is unreachable) with a GraphQL-shaped body and never reaches a resolver.

Order of checks (docs/saleor-integration §6.3, §8): the installation named by ``Saleor-Api-Url`` (must
exist and be active), then the token against that installation's cached JWKS, refetched at most once a
minute for an unknown key id exactly like webhook signatures (``webhooks/verification.py``), then the
claims: ``iss`` is the installation's URL, ``type``, and for staff ``app`` is our app id there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import timezone

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportError
from saleor_support_plugin.errors import SupportErrorCode as Code
from saleor_support_plugin.graphql.context import Shopper, StaffUser
from saleor_support_plugin.models import Installation
from saleor_support_plugin.saleor.jwt import (
    TOKEN_TYPE_CUSTOMER,
    TOKEN_TYPE_DASHBOARD,
    SaleorJwtClaims,
    UnknownKeyError,
    saleor_jwt_decode,
)
from saleor_support_plugin.services.customers import normalize_email
from saleor_support_plugin.services.installations import installation_jwks_refresh
from saleor_support_plugin.services.orders import access_order_for_shopper
from saleor_support_plugin.types import saleor_api_url
from saleor_support_plugin.webhooks.verification import JWKS_REFETCH_MIN_INTERVAL

GUEST_ORDER_HEADER = "Support-Guest-Order-Id"
GUEST_EMAIL_HEADER = "Support-Guest-Email"


@dataclass
class AuthenticationFailed(Exception):  # noqa: N818 (it is an outcome, not a programming error)
    code: Code
    message: str
    status: int = 401

    @classmethod
    def from_error(cls, exc: SupportError) -> AuthenticationFailed:
        if isinstance(exc, RetryableError):
            return cls(Code.TEMPORARILY_UNAVAILABLE, exc.message, status=503)
        return cls(exc.code, exc.message)


def _bearer(request: HttpRequest) -> str:
    """``Authorization-Bearer: <jwt>`` (what @saleor/app-sdk sends) or the standard ``Authorization: Bearer <jwt>``."""
    token = request.headers.get("Authorization-Bearer", "").strip()
    if token:
        return token
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _installation(request: HttpRequest) -> Installation:
    try:
        api_url = saleor_api_url(request.headers.get("Saleor-Api-Url"))
    except PermanentError as exc:
        raise AuthenticationFailed.from_error(exc) from exc
    installation = Installation.objects.filter(saleor_api_url=api_url).first()
    if installation is None:
        raise AuthenticationFailed(Code.UNKNOWN_INSTALLATION, "This Saleor has not installed the app.")
    if not installation.is_active:
        raise AuthenticationFailed(Code.INSTALLATION_INACTIVE, "The app installation is not active.")
    return installation


def _decode(installation: Installation, jwks: dict, token: str, token_type: str) -> SaleorJwtClaims:
    audience = support_settings().shopper_token_audience if token_type == TOKEN_TYPE_CUSTOMER else ""
    try:
        return saleor_jwt_decode(
            token=token,
            jwks=jwks,
            issuer=installation.saleor_api_url,
            token_type=token_type,
            audience=f"custom:{audience}" if audience else None,
        )
    except PermanentError as exc:
        raise AuthenticationFailed.from_error(exc) from exc


def _unknown_key() -> AuthenticationFailed:
    return AuthenticationFailed(Code.INVALID_TOKEN, "The token is signed with a key this Saleor does not publish.")


def token_verify(*, installation: Installation, token: str, token_type: str) -> SaleorJwtClaims:
    """Claims of a valid token of ``token_type`` issued by this installation's Saleor, or AuthenticationFailed.

    External call: the Saleor JWKS, only for an unknown key id and at most once a minute per installation.
    """
    if not token:
        raise AuthenticationFailed(Code.UNAUTHORIZED, "Authentication required: send a Saleor token.")
    try:
        return _decode(installation, installation.jwks, token, token_type)
    except UnknownKeyError:
        fetched = installation.jwks_fetched_at
        if fetched and timezone.now() - fetched < JWKS_REFETCH_MIN_INTERVAL:
            raise _unknown_key() from None
    try:
        jwks = installation_jwks_refresh(installation=installation)
    except SupportError as exc:
        raise (AuthenticationFailed.from_error(exc) if isinstance(exc, RetryableError) else _unknown_key()) from exc
    try:
        return _decode(installation, jwks, token, token_type)
    except UnknownKeyError:
        raise _unknown_key() from None


def staff_authenticate(request: HttpRequest) -> StaffUser:
    """The Dashboard user behind ``Authorization-Bearer`` + ``Saleor-Api-Url``; permissions come from the token."""
    installation = _installation(request)
    claims = token_verify(installation=installation, token=_bearer(request), token_type=TOKEN_TYPE_DASHBOARD)
    if claims.app_id != installation.app_id:
        raise AuthenticationFailed(Code.INVALID_TOKEN, "The token was issued for another app.")
    return StaffUser(
        installation=installation, user_id=claims.user_id, email=claims.email, permissions=claims.permissions
    )


def _guest(request: HttpRequest, installation: Installation) -> Shopper:
    order_id = request.headers.get(GUEST_ORDER_HEADER, "").strip()
    raw_email = request.headers.get(GUEST_EMAIL_HEADER, "").strip()
    if not order_id or not raw_email:
        raise AuthenticationFailed(
            Code.UNAUTHORIZED,
            f"Authentication required: send a customer token, or {GUEST_ORDER_HEADER} and {GUEST_EMAIL_HEADER}.",
        )
    refused = AuthenticationFailed(Code.UNAUTHORIZED, "The order id and e-mail do not match an order.")
    try:
        email = normalize_email(raw_email)
        order = access_order_for_shopper(installation=installation, order_id=order_id, email=email)
    except RetryableError as exc:
        raise AuthenticationFailed.from_error(exc) from exc
    except PermanentError as exc:
        # Unknown order and wrong e-mail read the same, so the proof cannot be used to probe for orders.
        raise refused from exc
    return Shopper(installation=installation, email=email, guest_order_id=order.saleor_id)


def shopper_authenticate(request: HttpRequest) -> Shopper:
    """A customer (Saleor ``access`` token) or, without a token, a guest proving one order by id and e-mail."""
    installation = _installation(request)
    token = _bearer(request)
    if not token:
        return _guest(request, installation)
    claims = token_verify(installation=installation, token=token, token_type=TOKEN_TYPE_CUSTOMER)
    if not claims.email:
        raise AuthenticationFailed(Code.INVALID_TOKEN, "The token names no customer.")
    return Shopper(installation=installation, email=claims.email, saleor_user_id=claims.user_id)
