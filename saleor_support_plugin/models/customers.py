from __future__ import annotations

from django.db import models


class Customer(models.Model):
    """One shopper per installation: every case, message and order of theirs hangs off this history.

    Identified by e-mail (lower-cased); the Saleor user id is attached once we learn it.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=254)
    saleor_user_id = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    language_code = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_customer"
        constraints = [
            models.UniqueConstraint(fields=["installation", "email"], name="customer_unique_email"),
        ]
        indexes = [
            models.Index(fields=["installation", "saleor_user_id"], name="customer_saleor_user_idx"),
        ]

    def __str__(self) -> str:
        return self.email
