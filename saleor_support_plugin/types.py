"""Branded identifiers, each with one validating constructor."""

from __future__ import annotations

from typing import NewType
from urllib.parse import urlsplit

from saleor_support_plugin.errors import PermanentError, SupportErrorCode

SaleorApiUrl = NewType("SaleorApiUrl", str)
SaleorAppId = NewType("SaleorAppId", str)

MAX_URL_LENGTH = 512


def saleor_api_url(raw: str | None) -> SaleorApiUrl:
    """Validate a Saleor GraphQL endpoint URL as sent in ``Saleor-Api-Url``.

    The URL is the installation key, so it is kept exactly as Saleor sends it (scheme, host, port, path)
    apart from surrounding whitespace.
    """
    value = (raw or "").strip()
    if not value:
        raise PermanentError(SupportErrorCode.REQUIRED, "Saleor-Api-Url is missing.", field="saleorApiUrl")
    if len(value) > MAX_URL_LENGTH:
        raise PermanentError(SupportErrorCode.INVALID, "Saleor-Api-Url is too long.", field="saleorApiUrl")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentError(SupportErrorCode.INVALID, "Saleor-Api-Url must be an http(s) URL.", field="saleorApiUrl")
    return SaleorApiUrl(value)


def saleor_origin(url: SaleorApiUrl) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
