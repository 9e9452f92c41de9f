"""A customer deleted in Saleor (CUSTOMER_DELETED by staff, ACCOUNT_DELETED by themselves) is erased here too."""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.models import Customer, CustomerDataRequest, EventStatus, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_event_process
from tests.gdpr.conftest import ANA
from tests.webhooks.test_intake_rejections import _post_raw, _signed
from tests.webhooks.test_registry import OWN_PAYLOADS


def _deliver(client, event: str, body: dict) -> WebhookEvent:
    raw = json.dumps(body).encode()
    path = "/api/webhooks/" + event.lower().replace("_", "-")
    assert _post_raw(client, raw, _signed(raw, event=event), path=path).status_code == 200
    return WebhookEvent.objects.get(event_type=event)


@pytest.mark.parametrize("event", ["CUSTOMER_DELETED", "ACCOUNT_DELETED"])
def test_deleted_customer_is_erased_with_the_event_that_said_so(client, shop, event):
    # given
    body = json.loads((OWN_PAYLOADS / f"{event}.json").read_text())
    row = _deliver(client, event, body)

    # when
    status = webhook_event_process(event_id=row.pk)

    # then
    assert status == EventStatus.PROCESSED
    assert not Customer.objects.filter(installation=shop.installation, email=ANA).exists()
    assert Customer.objects.filter(installation=shop.installation, email="bob@x.com").exists()
    audit = CustomerDataRequest.objects.get()
    assert (audit.kind, audit.via, audit.actor_type) == ("erase", f"saleor:{event}", "system")
    row.refresh_from_db()
    assert ANA not in row.raw_body


def test_event_without_a_user_is_ignored(client, shop):
    body = json.loads((OWN_PAYLOADS / "CUSTOMER_DELETED.json").read_text()) | {"user": None}
    row = _deliver(client, "CUSTOMER_DELETED", body)

    assert webhook_event_process(event_id=row.pk) == EventStatus.IGNORED
    assert Customer.objects.filter(installation=shop.installation, email=ANA).exists()
    assert not CustomerDataRequest.objects.exists()
