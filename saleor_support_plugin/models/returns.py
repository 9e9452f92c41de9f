"""Returns and refunds: per-installation policy and limits, return requests, and the refund ledger.

Money moves only in Saleor (granted refund + refund request, docs/saleor-integration §7). These rows are
our side of it: what staff asked for, under which idempotency key, and what Saleor answered. The allowed
status moves sit next to each model and are checked by ``services/refunds.py`` / ``services/returns.py``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 14, "decimal_places": 4}


class ReturnPolicy(models.Model):
    """What a shopper may send back, per installation. Missing row = the defaults below."""

    installation = models.OneToOneField("support.Installation", on_delete=models.CASCADE, related_name="+")
    # Days after the fulfilment was created (Saleor has no delivery date).
    window_days = models.PositiveIntegerField(default=30)
    # Saleor ProductType ids or names (names compared case-insensitively).
    non_returnable_product_types = models.JSONField(default=list, blank=True)
    non_returnable_skus = models.JSONField(default=list, blank=True)
    # Empty = any reason is accepted.
    allowed_reasons = models.JSONField(default=list, blank=True)
    # Returns worth at most this much are approved without staff; null = never.
    max_auto_approve_value = models.DecimalField(**MONEY, null=True, blank=True)
    exchanges_allowed = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_return_policy"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_auto_approve_value__isnull=True) | Q(max_auto_approve_value__gte=0),
                name="return_policy_auto_approve_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"return policy ({self.window_days} days)"


class RefundLimit(models.Model):
    """Caps on what staff may refund through the app, in the order's currency. Null = no cap."""

    installation = models.OneToOneField("support.Installation", on_delete=models.CASCADE, related_name="+")
    max_per_refund = models.DecimalField(**MONEY, null=True, blank=True)
    # Over a rolling 24 hours, per currency, counting every refund that has not failed.
    max_per_day = models.DecimalField(**MONEY, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_refund_limit"
        constraints = [
            models.CheckConstraint(
                condition=(Q(max_per_refund__isnull=True) | Q(max_per_refund__gte=0))
                & (Q(max_per_day__isnull=True) | Q(max_per_day__gte=0)),
                name="refund_limit_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"refund limit {self.max_per_refund}/{self.max_per_day}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested (no grant confirmed in Saleor yet)"
    GRANTED = "granted", "Granted in Saleor, not sent yet"
    PENDING = "pending", "Sent; the payment app is processing it"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


# A retry may find its grant already sent (requested → pending/succeeded), and a failed refund may be
# retried under the same key once its cause is fixed (failed → granted/pending/succeeded).
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.GRANTED, RefundStatus.PENDING, RefundStatus.SUCCEEDED,
                                       RefundStatus.FAILED}),
    RefundStatus.GRANTED: frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset({RefundStatus.GRANTED, RefundStatus.PENDING, RefundStatus.SUCCEEDED}),
    RefundStatus.SUCCEEDED: frozenset(),
}  # fmt: skip


class RefundRecord(models.Model):
    """The refund ledger: one row per idempotency key, written before Saleor is called.

    The key is also written into the Saleor grant's reason (``[support:<key>]``), so a retry after a
    timeout or crash finds the grant it already created instead of granting twice.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    # The ledger outlives the case (GDPR erasure of a case must not erase money history).
    case = models.ForeignKey("support.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    return_request = models.ForeignKey(
        "support.ReturnRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="refunds"
    )
    idempotency_key = models.CharField(max_length=80)
    # sha256 of what was asked; the same key with different parameters is refused.
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    order_saleor_id = models.CharField(max_length=255)
    order_number = models.CharField(max_length=64, blank=True, default="")
    transaction_saleor_id = models.CharField(max_length=255, blank=True, default="")
    grant_saleor_id = models.CharField(max_length=255, blank=True, default="")
    # Planned amount; replaced by what Saleor granted once the grant exists.
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    # [{"order_line_id", "quantity", "reason"}]
    lines = models.JSONField(default=list, blank=True)
    include_shipping = models.BooleanField(default=False)
    amount_explicit = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
    actor_type = models.CharField(max_length=16)
    actor_email = models.EmailField(max_length=254, blank=True, default="")
    actor_user_id = models.CharField(max_length=255, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    # Held while one worker drives this row through Saleor (never across a DB transaction).
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "support_refund_record"
        constraints = [
            models.UniqueConstraint(fields=["installation", "idempotency_key"], name="refund_record_unique_key"),
            models.UniqueConstraint(
                fields=["installation", "grant_saleor_id"],
                condition=~Q(grant_saleor_id=""),
                name="refund_record_unique_grant",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_record_amount_non_negative"),
        ]
        indexes = [
            models.Index(fields=["installation", "currency", "created_at"], name="refund_record_day_idx"),
            models.Index(fields=["installation", "order_saleor_id"], name="refund_record_order_idx"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} {self.status} ({self.idempotency_key})"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved (returned in Saleor)"
    RECEIVED = "received", "Received"
    REFUNDED = "refunded", "Refunded"
    EXCHANGED = "exchanged", "Exchanged"
    REJECTED = "rejected", "Rejected"


RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    ReturnStatus.REQUESTED: frozenset({ReturnStatus.APPROVED, ReturnStatus.REJECTED}),
    # Approved but the parcel never came back: staff may still reject.
    ReturnStatus.APPROVED: frozenset({ReturnStatus.RECEIVED, ReturnStatus.REJECTED}),
    ReturnStatus.RECEIVED: frozenset({ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED}),
    ReturnStatus.REFUNDED: frozenset(),
    ReturnStatus.EXCHANGED: frozenset(),
    ReturnStatus.REJECTED: frozenset(),
}

OPEN_RETURN_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)


class ReturnResolution(models.TextChoices):
    REFUND = "refund", "Refund"
    EXCHANGE = "exchange", "Exchange"


class ReturnRequest(models.Model):
    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("support.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order_saleor_id = models.CharField(max_length=255)
    order_number = models.CharField(max_length=64, blank=True, default="")
    customer_email = models.EmailField(max_length=254)
    status = models.CharField(max_length=12, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    resolution = models.CharField(max_length=10, choices=ReturnResolution.choices, default=ReturnResolution.REFUND)
    reason = models.CharField(max_length=64)
    comment = models.TextField(blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    value = models.DecimalField(**MONEY, default=0)
    auto_approved = models.BooleanField(default=False)
    # Set (and committed) just before orderFulfillmentReturnProducts is sent: "Saleor may have it already".
    saleor_return_started_at = models.DateTimeField(null=True, blank=True)
    saleor_return_fulfillment_id = models.CharField(max_length=255, blank=True, default="")
    saleor_replace_fulfillment_id = models.CharField(max_length=255, blank=True, default="")
    saleor_replace_order_id = models.CharField(max_length=255, blank=True, default="")
    rejection_reason = models.TextField(blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "support_return_request"
        indexes = [
            models.Index(fields=["installation", "order_saleor_id"], name="return_request_order_idx"),
            models.Index(fields=["installation", "status", "created_at"], name="return_request_status_idx"),
        ]

    def __str__(self) -> str:
        return f"return {self.pk} of order #{self.order_number} ({self.status})"

    @property
    def saleor_marker(self) -> str:
        """Written into the Saleor return's reason, so a retry can tell the return was already made."""
        return f"[support-return:{self.pk}]"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line_id = models.CharField(max_length=255)
    # [{"fulfillment_line_id", "quantity"}], chosen from Saleor's current fulfilments at approval.
    fulfillment_lines = models.JSONField(default=list, blank=True)
    product_name = models.CharField(max_length=255, blank=True, default="")
    variant_name = models.CharField(max_length=255, blank=True, default="")
    product_sku = models.CharField(max_length=255, blank=True, default="")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY, default=0)
    replace = models.BooleanField(default=False)

    class Meta:
        db_table = "support_return_line"
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_sku or self.order_line_id}"
