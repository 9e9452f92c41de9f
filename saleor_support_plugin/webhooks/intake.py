"""Webhook intake, independent of the HTTP layer: verify → record in the inbox → kick a drain.

``webhook_receive`` is the one implementation; the Django view (webhooks/views.py) and the WSGI fast path
(webhooks/fastpath.py) only read the request and write the ``Answer`` it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from saleor_support_plugin.errors import SupportError, SupportErrorCode
from saleor_support_plugin.services.inbox import webhook_dedupe_key, webhook_event_record
from saleor_support_plugin.webhooks.registry import spec_for_path
from saleor_support_plugin.webhooks.responses import ACCEPTED, DUPLICATE, Answer, error_answer, simple_answer
from saleor_support_plugin.webhooks.verification import verify_saleor_webhook

logger = logging.getLogger(__name__)


class EnvironHeaders:
    """``.get("Saleor-Event")`` read straight from the WSGI environ: ``request.headers`` would first parse
    every header of the request into a case-insensitive dict, on every webhook, for the three we read."""

    __slots__ = ("_meta",)

    def __init__(self, meta: dict) -> None:
        self._meta = meta

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._meta.get("HTTP_" + name.upper().replace("-", "_"), default)


def webhook_receive(*, event_path: str, headers, read_body: Callable[[], bytes | None]) -> Answer:
    """Answer one POST to ``/api/webhooks/<event_path>``.

    ``read_body`` returns the exact bytes Saleor signed, or None when the body exceeds the size limit; it is
    called only for a known endpoint. Writes: at most one inbox row (``webhook_event_record``).
    """
    spec = spec_for_path(event_path)
    if spec is None:
        return simple_answer(404, SupportErrorCode.UNSUPPORTED_EVENT, "Unknown webhook endpoint.")
    raw_body = read_body()
    if raw_body is None:
        return simple_answer(413, SupportErrorCode.PAYLOAD_TOO_LARGE, "Body exceeds the webhook size limit.")
    try:
        verified = verify_saleor_webhook(headers=headers, raw_body=raw_body, spec=spec)
        installation = verified.installation
        event = webhook_event_record(
            installation=installation,
            event_type=spec.event.value,
            raw_body=raw_body.decode(),
            dedupe_key=webhook_dedupe_key(
                api_url=installation.saleor_api_url, event_type=spec.event.value, raw_body=raw_body
            ),
            object_id=verified.object_id,
            issued_at=verified.issued_at,
            is_echo=verified.is_echo,
        )
    except SupportError as exc:
        logger.info("webhook rejected: %s", exc, extra={"event": spec.event.value})
        return error_answer(exc)
    return ACCEPTED if event is not None else DUPLICATE
