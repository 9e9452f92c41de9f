"""The WSGI fast path: what it must keep from Django's request cycle, and what it must not swallow.

The intake's answers themselves (accept, refuse, dedupe) run through both paths in test_intake_rejections.py,
test_recorded_replay.py and test_delivery_order.py.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import time

import pytest
from django.db import connection

from saleor_support_plugin.models import WebhookEvent
from saleor_support_plugin.project import wsgi
from saleor_support_plugin.webhooks import fastpath
from saleor_support_plugin.webhooks.fastpath import WebhookFastPath
from tests.fixtures.recordings import recorded
from tests.fixtures.signing import saleor_headers, sign_detached
from tests.fixtures.wsgi_client import WsgiClient

API_URL = "https://shop.example.com/graphql/"
APP_ID = "QXBwOjc="
PATH = "/api/webhooks/order-created"


@pytest.fixture
def app_client() -> WsgiClient:
    return WsgiClient(wsgi.application)


def _signed_order() -> tuple[bytes, dict]:
    body = json.loads(recorded("ORDER_CREATED-c_paid_order_from_checkout.json").raw_body)
    body["recipient"] = {"id": APP_ID, "name": "Support Cases App"}
    raw = json.dumps(body).encode()
    return raw, saleor_headers("ORDER_CREATED", api_url=API_URL, signature=sign_detached(raw))


def test_webhook_answer_carries_the_security_headers_django_would_add(app_client, test_installation):
    raw, meta = _signed_order()
    response = app_client.post(PATH, data=raw, content_type="application/json", **meta)

    assert response.status_code == 200
    assert response.json() == {"success": True, "status": "accepted"}
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_other_urls_and_methods_still_reach_django(app_client, test_installation):
    manifest = app_client.get("/api/manifest")
    assert manifest.status_code == 200
    assert manifest.json()["id"]

    assert app_client.get(PATH).status_code == 405  # Django's view: webhooks must be POSTed
    assert app_client.post("/api/register", data=b"{}", content_type="application/json").status_code == 400


def test_unknown_event_path_is_404_without_reading_the_body(app_client, test_installation):
    response = app_client.post("/api/webhooks/not-an-event", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UNSUPPORTED_EVENT"


def test_host_outside_allowed_hosts_is_refused_like_django_would(app_client, test_installation, settings):
    settings.ALLOWED_HOSTS = ["support.shop.example"]
    raw, meta = _signed_order()

    response = app_client.post(PATH, data=raw, content_type="application/json", HTTP_HOST="evil.example", **meta)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    ok = app_client.post(PATH, data=raw, content_type="application/json", HTTP_HOST="support.shop.example:443", **meta)
    assert ok.status_code == 200


def test_chunked_body_without_content_length_is_read_and_verified(app_client, test_installation):
    raw, meta = _signed_order()
    environ_overrides = {"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(raw)}

    response = app_client.post(PATH, data=raw, content_type="application/json", **meta, **environ_overrides)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().raw_body == raw.decode()


@pytest.mark.parametrize("length", ["-1", "abc", str(10 * 1024 * 1024)])
def test_bad_or_oversized_content_length_is_refused_without_reading(app_client, test_installation, length):
    raw, meta = _signed_order()
    response = app_client.post(PATH, data=raw, content_type="application/json", CONTENT_LENGTH=length, **meta)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_unexpected_error_is_a_logged_500_so_saleor_retries(app_client, test_installation, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    logged: list[str] = []
    monkeypatch.setattr("saleor_support_plugin.webhooks.intake.webhook_event_record", broken)
    monkeypatch.setattr(fastpath.logger, "exception", lambda msg, *a, **kw: logged.append(f"{msg} {sys.exc_info()[1]}"))
    raw, meta = _signed_order()

    response = app_client.post(PATH, data=raw, content_type="application/json", **meta)

    assert response.status_code == 500
    assert response.json()["success"] is False
    assert logged == ["webhook intake failed disk on fire"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_expired_database_connection_is_replaced_as_django_would(test_installation):
    # given this thread's connection has outlived CONN_MAX_AGE
    connection.ensure_connection()
    expired = connection.connection
    connection.close_at = time.monotonic() - 1
    raw, meta = _signed_order()

    # when a webhook arrives on the fast path
    response = WsgiClient(wsgi.application).post(PATH, data=raw, content_type="application/json", **meta)

    # then it was closed (close_old_connections) and the row written on a fresh one
    assert response.status_code == 200
    assert connection.connection is not expired
    assert WebhookEvent.objects.count() == 1


def test_fast_path_can_be_switched_off(settings):
    settings.SUPPORT_WEBHOOK_FAST_PATH = False
    try:
        assert not isinstance(importlib.reload(wsgi).application, WebhookFastPath)
    finally:
        settings.SUPPORT_WEBHOOK_FAST_PATH = True
        assert isinstance(importlib.reload(wsgi).application, WebhookFastPath)
