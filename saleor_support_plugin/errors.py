"""One small error family (see docs/architecture §2.3).

Services raise these; each interface maps them in one place: ``webhooks/responses.py`` for HTTP,
the Celery task options in ``tasks.py``, and later ``graphql/errors.py``.
"""

from __future__ import annotations

from enum import StrEnum


class SupportErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHORIZED = "UNAUTHORIZED"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    UNKNOWN_INSTALLATION = "UNKNOWN_INSTALLATION"
    INSTALLATION_INACTIVE = "INSTALLATION_INACTIVE"
    WRONG_RECIPIENT = "WRONG_RECIPIENT"
    UNSUPPORTED_EVENT = "UNSUPPORTED_EVENT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    SALEOR_URL_NOT_ALLOWED = "SALEOR_URL_NOT_ALLOWED"
    UNKNOWN_APP_ID = "UNKNOWN_APP_ID"
    JWKS_NOT_AVAILABLE = "JWKS_NOT_AVAILABLE"
    SALEOR_ERROR = "SALEOR_ERROR"
    SALEOR_PERMISSION_DENIED = "SALEOR_PERMISSION_DENIED"
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"  # too many creates by one shopper or IP; the message says when to retry
    SELF_ISSUED = "SELF_ISSUED"
    DUPLICATE = "DUPLICATE"
    STALE = "STALE"
    LLM_UNAVAILABLE = "LLM_UNAVAILABLE"
    LLM_AUTH_FAILED = "LLM_AUTH_FAILED"
    LLM_REJECTED = "LLM_REJECTED"
    LLM_BUDGET_EXHAUSTED = "LLM_BUDGET_EXHAUSTED"
    AUTOPILOT_MONEY_INTENT = "AUTOPILOT_MONEY_INTENT"  # autopilot can never answer refunds/cancellations/…
    # Refunds and returns (services/refunds.py, services/returns.py); Saleor's own code is in the message.
    INVALID_STATUS = "INVALID_STATUS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IN_PROGRESS = "IN_PROGRESS"
    REFUND_LIMIT_EXCEEDED = "REFUND_LIMIT_EXCEEDED"
    NO_CHARGED_TRANSACTION = "NO_CHARGED_TRANSACTION"
    REFUND_AMOUNT_EXCEEDS_CHARGED = "REFUND_AMOUNT_EXCEEDS_CHARGED"
    REFUND_QUANTITY_EXCEEDS_AVAILABLE = "REFUND_QUANTITY_EXCEEDS_AVAILABLE"
    SHIPPING_ALREADY_REFUNDED = "SHIPPING_ALREADY_REFUNDED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUND_ALREADY_PROCESSED = "REFUND_ALREADY_PROCESSED"
    PAYMENT_APP_CANNOT_REFUND = "PAYMENT_APP_CANNOT_REFUND"
    REFUND_DECLINED = "REFUND_DECLINED"
    CANNOT_REFUND = "CANNOT_REFUND"
    RETURN_WINDOW_EXPIRED = "RETURN_WINDOW_EXPIRED"
    ITEM_NOT_RETURNABLE = "ITEM_NOT_RETURNABLE"
    RETURN_QUANTITY_EXCEEDED = "RETURN_QUANTITY_EXCEEDED"
    RETURN_REASON_NOT_ALLOWED = "RETURN_REASON_NOT_ALLOWED"
    EXCHANGE_NOT_ALLOWED = "EXCHANGE_NOT_ALLOWED"


class SupportError(Exception):
    """Base of every error our services raise on purpose."""

    def __init__(self, code: SupportErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RetryableError(SupportError):
    """Transient: the same call may succeed later (network, Saleor 5xx, locks)."""


class PermanentError(SupportError):
    """Will fail the same way every time: bad input, forged data, wrong state."""


class NoOpError(SupportError):
    """Nothing to do, and that is fine: a duplicate, a self-issued echo, a disabled feature."""
