"""Our local picture of Saleor orders, checkouts and transactions, kept newest-wins.

Saleor delivers webhooks at least once, in no order, with payloads rendered later than the event, and
some changes move no timestamp at all. Every snapshot therefore carries a version: the newest
timestamp found anywhere inside the object (``version_stamp``) and, as tie-breaker, when Saleor rendered
the payload (``version_issued_at``). An update with a lower version is dropped.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 14, "decimal_places": 4, "null": True, "blank": True}


class VersionedSnapshot(models.Model):
    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    saleor_id = models.CharField(max_length=255)
    version_stamp = models.DateTimeField()
    version_issued_at = models.DateTimeField()
    source_event = models.ForeignKey(
        "support.WebhookEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OrderSnapshot(VersionedSnapshot):
    number = models.CharField(max_length=64, blank=True, default="")
    token = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=32, blank=True, default="")
    origin = models.CharField(max_length=32, blank=True, default="")
    language_code = models.CharField(max_length=16, blank=True, default="")
    charge_status = models.CharField(max_length=32, blank=True, default="")
    authorize_status = models.CharField(max_length=32, blank=True, default="")
    payment_status = models.CharField(max_length=32, blank=True, default="")
    is_paid = models.BooleanField(null=True)
    channel_slug = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    user_email = models.EmailField(max_length=254, blank=True, default="")
    saleor_user_id = models.CharField(max_length=255, blank=True, default="")
    checkout_id = models.CharField(max_length=255, blank=True, default="")
    total_gross = models.DecimalField(**MONEY)
    total_charged = models.DecimalField(**MONEY)
    total_authorized = models.DecimalField(**MONEY)
    total_refunded = models.DecimalField(**MONEY)
    total_granted_refund = models.DecimalField(**MONEY)
    total_refund_pending = models.DecimalField(**MONEY)
    total_balance = models.DecimalField(**MONEY)
    saleor_created_at = models.DateTimeField(null=True, blank=True)
    saleor_updated_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    first_fulfilled_at = models.DateTimeField(null=True, blank=True)
    last_tracking_at = models.DateTimeField(null=True, blank=True)
    has_tracking = models.BooleanField(default=False)
    # When the delay rules (services/case_rules.py) must look at this order again; null = nothing pending.
    delay_check_at = models.DateTimeField(null=True, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    lines = models.JSONField(default=list, blank=True)
    fulfillments = models.JSONField(default=list, blank=True)
    granted_refunds = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "support_order_snapshot"
        constraints = [
            models.UniqueConstraint(fields=["installation", "saleor_id"], name="order_snapshot_unique"),
        ]
        indexes = [
            models.Index(fields=["installation", "status"], name="order_snapshot_status_idx"),
            models.Index(fields=["installation", "number"], name="order_snapshot_number_idx"),
            models.Index(fields=["installation", "user_email"], name="order_snapshot_email_idx"),
            models.Index(
                fields=["delay_check_at"], name="order_snapshot_delay_idx", condition=Q(delay_check_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"order #{self.number} {self.status}"


class CheckoutSnapshot(VersionedSnapshot):
    token = models.CharField(max_length=64, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    language_code = models.CharField(max_length=16, blank=True, default="")
    saleor_user_id = models.CharField(max_length=255, blank=True, default="")
    channel_slug = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    charge_status = models.CharField(max_length=32, blank=True, default="")
    authorize_status = models.CharField(max_length=32, blank=True, default="")
    total_gross = models.DecimalField(**MONEY)
    quantity = models.PositiveIntegerField(default=0)
    saleor_created_at = models.DateTimeField(null=True, blank=True)
    saleor_updated_at = models.DateTimeField(null=True, blank=True)
    lines = models.JSONField(default=list, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "support_checkout_snapshot"
        constraints = [
            models.UniqueConstraint(fields=["installation", "saleor_id"], name="checkout_snapshot_unique"),
        ]
        indexes = [
            models.Index(fields=["installation", "email"], name="checkout_snapshot_email_idx"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.token} {self.charge_status}"


class TransactionSnapshot(VersionedSnapshot):
    token = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=512, blank=True, default="")
    psp_reference = models.CharField(max_length=512, blank=True, default="")
    order_saleor_id = models.CharField(max_length=255, blank=True, default="")
    checkout_saleor_id = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    authorized_amount = models.DecimalField(**MONEY)
    charged_amount = models.DecimalField(**MONEY)
    refunded_amount = models.DecimalField(**MONEY)
    canceled_amount = models.DecimalField(**MONEY)
    authorize_pending_amount = models.DecimalField(**MONEY)
    charge_pending_amount = models.DecimalField(**MONEY)
    refund_pending_amount = models.DecimalField(**MONEY)
    actions = models.JSONField(default=list, blank=True)
    created_by_app_id = models.CharField(max_length=255, blank=True, default="")
    saleor_created_at = models.DateTimeField(null=True, blank=True)
    saleor_modified_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "support_transaction_snapshot"
        constraints = [
            models.UniqueConstraint(fields=["installation", "saleor_id"], name="transaction_snapshot_unique"),
        ]
        indexes = [
            models.Index(fields=["installation", "order_saleor_id"], name="transaction_order_idx"),
            models.Index(fields=["installation", "checkout_saleor_id"], name="transaction_checkout_idx"),
        ]

    def __str__(self) -> str:
        return f"transaction {self.psp_reference or self.saleor_id}"


class TransactionEventRecord(models.Model):
    """A Saleor TransactionEvent. They never change once written, so they are insert-only.

    Payment failures live here: polling and webhooks both land the same event id, which is what later
    rules key cases on.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    saleor_id = models.CharField(max_length=255)
    transaction_saleor_id = models.CharField(max_length=255)
    type = models.CharField(max_length=64)
    psp_reference = models.CharField(max_length=512, blank=True, default="")
    message = models.TextField(blank=True, default="")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, blank=True, default="")
    saleor_created_at = models.DateTimeField(null=True, blank=True)
    created_by_app_id = models.CharField(max_length=255, blank=True, default="")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    # Set once the case rules have acted on this event (opened a case, or found nothing to do).
    rule_handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "support_transaction_event"
        constraints = [
            models.UniqueConstraint(fields=["installation", "saleor_id"], name="transaction_event_unique"),
        ]
        indexes = [
            models.Index(fields=["installation", "transaction_saleor_id"], name="transaction_event_tx_idx"),
            models.Index(fields=["installation", "type", "saleor_created_at"], name="transaction_event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} on {self.transaction_saleor_id}"
