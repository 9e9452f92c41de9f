"""Install, refresh and remove Saleor installations (docs §3)."""

from __future__ import annotations

import logging

import httpx
from django.db import transaction
from django.utils import timezone

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.crypto import token_decrypt, token_encrypt
from saleor_support_plugin.errors import NoOpError, PermanentError, SupportErrorCode
from saleor_support_plugin.models import Installation
from saleor_support_plugin.saleor.client import SaleorClient, jwks_fetch
from saleor_support_plugin.types import SaleorApiUrl

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 4096


def saleor_url_allowed(api_url: SaleorApiUrl) -> bool:
    patterns = support_settings().allowed_saleor_urls
    return not patterns or any(p.fullmatch(api_url) for p in patterns)


def installation_register(
    *,
    api_url: SaleorApiUrl,
    token: str,
    domain: str = "",
    schema_version: str = "",
    transport: httpx.BaseTransport | None = None,
) -> Installation:
    """Store (or replace) the installation of the Saleor at ``api_url`` after proving the token works there.

    External calls (before any write): ``{ app { id } }`` with the token, then the Saleor JWKS.
    Writes: one Installation row (created, or overwritten on reinstall: new app id, token, JWKS;
    reactivated). Raises PermanentError with SALEOR_URL_NOT_ALLOWED / UNKNOWN_APP_ID / JWKS_NOT_AVAILABLE.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise PermanentError(SupportErrorCode.REQUIRED, "auth_token is missing or malformed.", field="auth_token")
    if not saleor_url_allowed(api_url):
        raise PermanentError(
            SupportErrorCode.SALEOR_URL_NOT_ALLOWED, "This Saleor URL is not allowed to install the app."
        )
    try:
        data = SaleorClient(api_url=api_url, token=token, transport=transport).execute("AppId")
    except PermanentError as exc:
        if exc.code != SupportErrorCode.SALEOR_PERMISSION_DENIED:
            raise
        # Saleor treats an unknown or revoked token as an anonymous caller, and ``app`` needs
        # AUTHENTICATED_APP: the answer is ``app: null`` plus a PermissionDenied error.
        raise PermanentError(SupportErrorCode.UNKNOWN_APP_ID, "Saleor did not recognise the token as an app.") from exc
    app_id = (data.get("app") or {}).get("id")
    if not app_id:
        raise PermanentError(SupportErrorCode.UNKNOWN_APP_ID, "Saleor did not recognise the token as an app.")
    try:
        jwks = jwks_fetch(api_url, transport=transport)
    except PermanentError as exc:
        raise PermanentError(SupportErrorCode.JWKS_NOT_AVAILABLE, exc.message) from exc
    now = timezone.now()
    with transaction.atomic():
        installation, created = Installation.objects.select_for_update().update_or_create(
            saleor_api_url=api_url,
            defaults={
                "app_id": app_id,
                "domain": domain[:255],
                "token_encrypted": token_encrypt(token),
                "jwks": jwks,
                "jwks_fetched_at": now,
                "schema_version": schema_version[:32],
                "is_active": True,
                "deactivated_at": None,
                "installed_at": now,
            },
        )
    logger.info("installation %s", "created" if created else "replaced", extra={"saleor_api_url": api_url})
    return installation


def installation_deactivate(*, installation: Installation, app_id: str) -> None:
    """Mark the installation inactive and erase its token, after Saleor deleted our app.

    Refuses (NoOpError) when ``app_id`` is not the installed app: a late APP_DELETED for an app that
    was since reinstalled must not disable the new installation. Writes: Installation.
    """
    with transaction.atomic():
        current = Installation.objects.select_for_update().get(pk=installation.pk)
        if current.app_id != app_id:
            raise NoOpError(SupportErrorCode.STALE, "APP_DELETED names an app that is no longer installed.")
        current.is_active = False
        current.token_encrypted = ""
        current.deactivated_at = timezone.now()
        current.save(update_fields=["is_active", "token_encrypted", "deactivated_at", "updated_at"])
    logger.info("installation deactivated", extra={"saleor_api_url": installation.saleor_api_url})


def installation_jwks_refresh(*, installation: Installation, transport: httpx.BaseTransport | None = None) -> dict:
    """Fetch the Saleor JWKS again and store it. External call: JWKS. Writes: Installation.jwks."""
    jwks = jwks_fetch(SaleorApiUrl(installation.saleor_api_url), transport=transport)
    now = timezone.now()
    Installation.objects.filter(pk=installation.pk).update(jwks=jwks, jwks_fetched_at=now, updated_at=now)
    installation.jwks = jwks
    installation.jwks_fetched_at = now
    return jwks


def installation_client(*, installation: Installation, transport: httpx.BaseTransport | None = None) -> SaleorClient:
    """A GraphQL client acting as our app on this installation."""
    if not installation.is_active or not installation.token_encrypted:
        raise PermanentError(SupportErrorCode.INSTALLATION_INACTIVE, "The installation is not active.")
    return SaleorClient(
        api_url=SaleorApiUrl(installation.saleor_api_url),
        token=token_decrypt(installation.token_encrypted),
        transport=transport,
    )
