"""Audit trail of data-subject requests (export and erasure of a shopper's support data)."""

from __future__ import annotations

from django.db import models

# Erased customers keep their row (cases point at it) with the address ``erased-<pk>@erased.invalid``:
# ``.invalid`` is reserved (RFC 2606), so nothing is ever delivered there and nobody can own it.
ERASED_EMAIL_DOMAIN = "erased.invalid"


class DataRequestKind(models.TextChoices):
    EXPORT = "export", "Export"
    ERASE = "erase", "Erase"


class CustomerDataRequest(models.Model):
    """Who exported or erased whose data, when, and what it touched. Holds no personal data itself.

    The shopper is recorded as ``subject_digest``, a keyed HMAC of the normalised e-mail: an auditor who
    is given the address can prove the request happened, but the row alone does not reveal it. Erasure
    leaves no other trace of the address, so this is also how "was X erased?" is answered.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=DataRequestKind.choices)
    subject_digest = models.CharField(max_length=64)
    actor_type = models.CharField(max_length=16)  # staff | system
    actor_email = models.EmailField(max_length=254, blank=True, default="")
    actor_user_id = models.CharField(max_length=255, blank=True, default="")
    # Where the request came from: "staff" (GraphQL) or "saleor:<EVENT>" (customer deleted in Saleor).
    via = models.CharField(max_length=48)
    # Row counts per kind of data touched, e.g. {"cases": 2, "messages": 5}.
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "support_customer_data_request"
        indexes = [models.Index(fields=["installation", "subject_digest"], name="data_request_subject_idx")]

    def __str__(self) -> str:
        return f"{self.kind} via {self.via} at {self.created_at:%Y-%m-%d %H:%M}"


class ErasedObjectKind(models.TextChoices):
    ORDER = "order", "Order"
    CHECKOUT = "checkout", "Checkout"
    TRANSACTION = "transaction", "Transaction"


class ErasedObject(models.Model):
    """Tombstone of a Saleor order, checkout or transaction whose shopper data we erased.

    Saleor keeps orders after a customer is deleted (accounting), so webhooks and polls about them keep
    coming with the shopper's e-mail and address. The tombstone makes every later update land erased: the
    snapshot keeps its facts (status, money, fulfilment) but never gets the personal fields back, and no
    rule opens a case for it. Keyed by object id, never by e-mail: a returning shopper's new orders are
    new data. Holds no personal data itself.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ErasedObjectKind.choices)
    saleor_id = models.CharField(max_length=255)
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "support_erased_object"
        constraints = [
            models.UniqueConstraint(fields=["installation", "saleor_id"], name="erased_object_unique"),
        ]

    def __str__(self) -> str:
        return f"erased {self.kind} {self.saleor_id}"
