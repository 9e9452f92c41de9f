from __future__ import annotations

from django.db import models


class InstallationQuerySet(models.QuerySet["Installation"]):
    def active(self) -> InstallationQuerySet:
        return self.filter(is_active=True)


class Installation(models.Model):
    """One Saleor instance that installed this app. Every other row hangs off one of these.

    Keyed by ``saleor_api_url`` exactly as Saleor sends it; a reinstall overwrites the row (new app id,
    new token) instead of creating a second tenant for the same shop.
    """

    saleor_api_url = models.CharField(max_length=512, unique=True)
    domain = models.CharField(max_length=255, blank=True, default="")
    app_id = models.CharField(max_length=255)
    # Fernet ciphertext of the app token; empty once Saleor told us the app was deleted.
    token_encrypted = models.TextField(blank=True, default="")
    jwks = models.JSONField(default=dict)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)
    schema_version = models.CharField(max_length=32, blank=True, default="")
    is_active = models.BooleanField(default=True)
    installed_at = models.DateTimeField()
    deactivated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InstallationQuerySet.as_manager()

    class Meta:
        db_table = "support_installation"

    def __str__(self) -> str:
        return f"{self.saleor_api_url} ({'active' if self.is_active else 'inactive'})"
