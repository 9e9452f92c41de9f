"""Route an inbox row to its payload model and handler (webhook registry or poll kinds)."""

from __future__ import annotations

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import WebhookEvent
from saleor_support_plugin.webhooks.registry import spec_for_event


def dispatch(event: WebhookEvent) -> None:
    """Parse the row's body and run its handler. Caller holds the row lock inside ``atomic``."""
    from saleor_support_plugin.services.polling import POLL_HANDLERS

    poll = POLL_HANDLERS.get(event.event_type)
    if poll is not None:
        poll(event)
        return
    spec = spec_for_event(event.event_type)
    if spec is None:
        raise PermanentError(SupportErrorCode.UNSUPPORTED_EVENT, f"No handler for {event.event_type}.")
    installation = event.installation
    if not installation.is_active and not spec.allowed_when_inactive:
        raise PermanentError(SupportErrorCode.INSTALLATION_INACTIVE, "The installation was deactivated.")
    payload = spec.payload_model.model_validate_json(event.raw_body)
    spec.handler(installation=installation, payload=payload, event=event)
