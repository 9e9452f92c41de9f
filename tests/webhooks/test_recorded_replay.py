"""Replay all 102 real Saleor 3.24 requests through the HTTP endpoint with their original signatures."""

from __future__ import annotations

import pytest

from saleor_support_plugin.models import EventStatus, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_event_process
from saleor_support_plugin.webhooks.registry import spec_for_event
from tests.fixtures.recordings import post_recorded, recorded_webhooks


@pytest.fixture
def client(intake_client):
    return intake_client


def _post(client, hook):
    return post_recorded(client, hook)


def test_recordings_are_all_there():
    assert len(recorded_webhooks()) == 102


@pytest.mark.parametrize("hook", recorded_webhooks(), ids=lambda h: h.name)
def test_recorded_request_is_accepted_or_refused_for_the_right_reason(client, recorded_installation, hook):
    # given the lab's Saleor is installed with its real JWKS
    # when Saleor's exact request is replayed
    response = _post(client, hook)

    # then our app's events are accepted and stored; the payment app's sync webhooks are not ours
    if hook.is_ours and spec_for_event(hook.event):
        assert response.status_code == 200, response.content
        event = WebhookEvent.objects.get()
        assert event.raw_body.encode() == hook.raw_body
        assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED
    else:
        assert response.status_code in (403, 404), response.content
        assert not WebhookEvent.objects.exists()
