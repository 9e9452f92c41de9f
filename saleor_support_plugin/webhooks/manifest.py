"""The app manifest Saleor fetches at install time, generated from the webhook registry."""

from __future__ import annotations

from django.urls import reverse

from saleor_support_plugin import __version__
from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.webhooks.registry import REGISTRY

# What the features need: orders (snapshots, refunds later), checkouts (abandoned/failed payments),
# transactions (payment failures via the `transactions` poll, refund requests later) and users: Saleor
# delivers CUSTOMER_DELETED / ACCOUNT_DELETED only to apps with MANAGE_USERS, and those trigger GDPR erasure.
PERMISSIONS = ["MANAGE_ORDERS", "MANAGE_CHECKOUTS", "HANDLE_PAYMENTS", "MANAGE_USERS"]
# The failure poll uses `transactions(where: {modifiedAt, events})` and `sortBy`, which arrived in 3.23.
REQUIRED_SALEOR_VERSION = ">=3.23 <4"


def build_manifest() -> dict:
    conf = support_settings()
    base = conf.app_url
    webhooks = [
        {
            "name": f"support {spec.event.value.lower()}",
            "asyncEvents": [spec.event.value],
            "query": spec.subscription,
            "targetUrl": base + reverse("saleor-webhook", kwargs={"event_path": spec.path}),
            "isActive": True,
        }
        for spec in REGISTRY.values()
    ]
    return {
        "id": conf.app_id,
        "name": conf.app_name,
        "version": __version__,
        "about": "Support cases for your store: payment failures, unpaid orders and delays followed up.",
        "author": "saleor_support_plugin",
        "permissions": PERMISSIONS,
        "tokenTargetUrl": base + reverse("saleor-register"),
        "requiredSaleorVersion": REQUIRED_SALEOR_VERSION,
        "webhooks": webhooks,
        "extensions": [],
    }
