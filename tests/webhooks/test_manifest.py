from __future__ import annotations

import json

from saleor_support_plugin.webhooks.registry import REGISTRY


def test_manifest_lists_every_registered_webhook_with_a_routable_url(client, settings):
    response = client.get("/api/manifest")

    assert response.status_code == 200
    manifest = response.json()
    assert manifest["tokenTargetUrl"].endswith("/api/register")
    assert set(manifest["permissions"]) == {"MANAGE_ORDERS", "MANAGE_CHECKOUTS", "HANDLE_PAYMENTS", "MANAGE_USERS"}
    assert "MANAGE_APPS" not in manifest["permissions"]  # Saleor 3.24 rejects installs asking for it
    by_event = {hook["asyncEvents"][0]: hook for hook in manifest["webhooks"]}
    assert set(by_event) == {e.value for e in REGISTRY}
    for event, hook in by_event.items():
        path = hook["targetUrl"].removeprefix(manifest["tokenTargetUrl"].removesuffix("/api/register"))
        # the URL resolves to our intake (a POST without headers is a 400, not a 404)
        assert client.post(path, data=b"{}", content_type="application/json").status_code == 400, event
        assert "fragment EventMetadata on Event" in hook["query"]


def test_manifest_urls_follow_app_url(client, settings):
    from saleor_support_plugin.conf import support_settings

    settings.APP_URL = "https://support.example.com"
    support_settings.cache_clear()
    try:
        manifest = json.loads(client.get("/api/manifest").content)
    finally:
        support_settings.cache_clear()
    assert manifest["tokenTargetUrl"] == "https://support.example.com/api/register"
    assert all(h["targetUrl"].startswith("https://support.example.com/api/webhooks/") for h in manifest["webhooks"])


def test_register_url_has_no_redirect(client):
    # Saleor does not follow redirects: the exact URL from the manifest must answer itself
    response = client.post("/api/register", data=b"{}", content_type="application/json")
    assert response.status_code not in (301, 302, 307, 308)
