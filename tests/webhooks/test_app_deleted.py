"""Uninstall: APP_DELETED deactivates the installation and erases its token; nothing else gets in after."""

from __future__ import annotations

import json

from saleor_support_plugin.models import EventStatus, Installation, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_event_process
from tests.webhooks.test_intake_rejections import _post_raw, _signed, order_body
from tests.webhooks.test_registry import OWN_PAYLOADS


def _post_app_deleted(client, body: dict):
    raw = json.dumps(body).encode()
    return _post_raw(client, raw, _signed(raw, event="APP_DELETED"), path="/api/webhooks/app-deleted")


def test_app_deleted_deactivates_and_erases_the_token(client, test_installation):
    body = json.loads((OWN_PAYLOADS / "APP_DELETED.json").read_text())

    assert _post_app_deleted(client, body).status_code == 200
    status = webhook_event_process(event_id=WebhookEvent.objects.get().pk)

    installation = Installation.objects.get(pk=test_installation.pk)
    assert status == EventStatus.PROCESSED
    assert installation.is_active is False
    assert installation.token_encrypted == ""
    assert installation.deactivated_at is not None
    # and the next order webhook from that Saleor is refused
    raw = json.dumps(order_body()).encode()
    assert _post_raw(client, raw, _signed(raw)).status_code == 401


def test_late_app_deleted_for_a_previous_install_does_not_disable_the_new_one(client, test_installation):
    # given the shop reinstalled: Saleor gave the new app another id, but the old APP_DELETED arrives late
    body = json.loads((OWN_PAYLOADS / "APP_DELETED.json").read_text())
    body["app"]["id"] = "QXBwOjY="  # the old app

    assert _post_app_deleted(client, body).status_code == 200
    status = webhook_event_process(event_id=WebhookEvent.objects.get().pk)

    assert status == EventStatus.IGNORED
    assert Installation.objects.get(pk=test_installation.pk).is_active is True


def test_app_deleted_is_accepted_even_when_already_inactive(client, test_installation):
    Installation.objects.filter(pk=test_installation.pk).update(is_active=False)
    body = json.loads((OWN_PAYLOADS / "APP_DELETED.json").read_text())

    assert _post_app_deleted(client, body).status_code == 200
