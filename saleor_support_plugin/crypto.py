"""Encryption at rest for Saleor app tokens (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`).

``ENCRYPTION_KEYS`` holds Fernet keys, newest first; older keys still decrypt, so keys rotate by
prepending a new one. Without it (local `make run`), a key is derived from SECRET_KEY so a dev setup works,
and README says production must set it.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, SupportErrorCode


@cache
def _fernet() -> MultiFernet:
    conf = support_settings()
    keys = list(conf.encryption_keys)
    if not keys:
        digest = hashlib.sha256(("saleor-support:token-key:" + conf.secret_key).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def token_encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def token_decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise PermanentError(
            SupportErrorCode.INVALID, "Stored token cannot be decrypted with the configured ENCRYPTION_KEYS."
        ) from exc
