"""Everything that is not a genuine Saleor webhook for us is refused with a 4xx and leaves no row.

4xx matters: Saleor never retries it, so only requests that can never succeed get one.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_support_plugin.models import Installation, OrderSnapshot, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_event_process
from tests.fixtures.recordings import recorded
from tests.fixtures.signing import saleor_headers, sign_detached

API_URL = "https://shop.example.com/graphql/"
APP_ID = "QXBwOjc="


@pytest.fixture
def client(intake_client):
    return intake_client


def order_body(**overrides) -> dict:
    body = json.loads(recorded("ORDER_CREATED-c_paid_order_from_checkout.json").raw_body)
    body["recipient"] = {"id": APP_ID, "name": "Support Cases App"}
    body.update(overrides)
    return body


def _post_raw(client, raw: bytes, meta: dict, path: str = "/api/webhooks/order-created"):
    return client.post(path, data=raw, content_type="application/json", **meta)


def _signed(raw: bytes, event: str = "ORDER_CREATED", **kw) -> dict:
    return saleor_headers(event, api_url=kw.pop("api_url", API_URL), signature=sign_detached(raw, **kw))


def _assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert not WebhookEvent.objects.exists()


def test_valid_signed_webhook_is_accepted(client, test_installation):
    raw = json.dumps(order_body()).encode()
    response = _post_raw(client, raw, _signed(raw))
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_signature_from_another_key_with_our_kid_is_refused(client, test_installation):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    raw = json.dumps(order_body()).encode()
    _assert_refused(_post_raw(client, raw, _signed(raw, key=other)), 401, "INVALID_SIGNATURE")


def test_unknown_kid_is_refused_without_hammering_saleor(client, test_installation):
    # the JWKS was fetched moments ago, so an unknown kid is not worth a refetch
    raw = json.dumps(order_body()).encode()
    _assert_refused(_post_raw(client, raw, _signed(raw, kid="not-a-saleor-key")), 401, "INVALID_SIGNATURE")


def test_body_altered_by_one_byte_is_refused(client, test_installation):
    raw = json.dumps(order_body()).encode()
    meta = _signed(raw)
    tampered = raw.replace(b'"status": "', b'"status": "X', 1)
    assert len(tampered) == len(raw) + 1
    _assert_refused(_post_raw(client, tampered, meta), 401, "INVALID_SIGNATURE")


def test_same_length_tamper_is_refused(client, test_installation):
    raw = json.dumps(order_body()).encode()
    meta = _signed(raw)
    i = raw.index(b"UNFULFILLED")
    tampered = raw[:i] + b"F" + raw[i + 1 :]
    _assert_refused(_post_raw(client, tampered, meta), 401, "INVALID_SIGNATURE")


def test_recorded_saleor_signature_does_not_verify_for_another_installation_key(client, test_installation):
    # a genuine request from the lab Saleor, replayed against a shop whose JWKS is different
    hook = recorded("ORDER_CREATED-c_paid_order_from_checkout.json")
    meta = saleor_headers("ORDER_CREATED", api_url=API_URL, signature=hook.headers["Saleor-Signature"])
    _assert_refused(_post_raw(client, hook.raw_body, meta), 401, "INVALID_SIGNATURE")


def test_event_for_another_app_on_the_same_saleor_is_refused(client, test_installation):
    raw = json.dumps(order_body(recipient={"id": "QXBwOjI=", "name": "Dummy Payment App"})).encode()
    _assert_refused(_post_raw(client, raw, _signed(raw)), 403, "WRONG_RECIPIENT")


def test_missing_recipient_is_refused(client, test_installation):
    body = order_body()
    del body["recipient"]
    raw = json.dumps(body).encode()
    _assert_refused(_post_raw(client, raw, _signed(raw)), 403, "WRONG_RECIPIENT")


def test_unknown_saleor_url_is_refused(client, test_installation):
    raw = json.dumps(order_body()).encode()
    meta = _signed(raw, api_url="https://evil.example.net/graphql/")
    _assert_refused(_post_raw(client, raw, meta), 401, "UNKNOWN_INSTALLATION")


def test_deactivated_installation_is_refused(client, test_installation):
    Installation.objects.filter(pk=test_installation.pk).update(is_active=False, token_encrypted="")
    raw = json.dumps(order_body()).encode()
    _assert_refused(_post_raw(client, raw, _signed(raw)), 401, "INSTALLATION_INACTIVE")


@pytest.mark.parametrize("header", ["HTTP_SALEOR_EVENT", "HTTP_SALEOR_SIGNATURE", "HTTP_SALEOR_API_URL"])
def test_missing_saleor_header_is_refused(client, test_installation, header):
    raw = json.dumps(order_body()).encode()
    meta = _signed(raw)
    del meta[header]
    _assert_refused(_post_raw(client, raw, meta), 400, "REQUIRED")


def test_event_header_that_does_not_match_the_endpoint_is_refused(client, test_installation):
    raw = json.dumps(order_body()).encode()
    meta = _signed(raw, event="ORDER_CANCELLED")
    _assert_refused(_post_raw(client, raw, meta), 400, "UNSUPPORTED_EVENT")


def test_unknown_endpoint_is_404(client, test_installation):
    raw = json.dumps(order_body()).encode()
    response = _post_raw(client, raw, _signed(raw, event="ORDER_DELETED"), path="/api/webhooks/order-deleted")
    _assert_refused(response, 404, "UNSUPPORTED_EVENT")


def test_malformed_api_url_is_refused(client, test_installation):
    raw = json.dumps(order_body()).encode()
    _assert_refused(_post_raw(client, raw, _signed(raw, api_url="javascript:alert(1)")), 400, "INVALID")


def test_hmac_style_signature_is_refused(client, test_installation):
    raw = json.dumps(order_body()).encode()
    meta = _signed(raw)
    meta["HTTP_SALEOR_SIGNATURE"] = "a" * 64
    _assert_refused(_post_raw(client, raw, meta), 401, "INVALID_SIGNATURE")


@pytest.mark.parametrize("raw", [b"not json at all", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b""])
def test_signed_but_malformed_body_is_refused(client, test_installation, raw):
    _assert_refused(_post_raw(client, raw, _signed(raw)), 400, "INVALID")


def test_ten_megabyte_body_is_refused_before_it_is_read(client, test_installation):
    raw = b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    _assert_refused(_post_raw(client, raw, _signed(raw)), 413, "PAYLOAD_TOO_LARGE")


def test_get_is_refused(client, test_installation):
    response = client.get("/api/webhooks/order-created")
    assert response.status_code == 405
    assert not WebhookEvent.objects.exists()


def test_payload_that_does_not_match_the_subscription_fails_visibly_without_partial_writes(client, test_installation):
    # given a genuine, signed event whose order lacks required fields (e.g. a hand-edited subscription)
    body = order_body()
    body["order"] = {"id": body["order"]["id"], "lines": [{"id": "x"}]}
    raw = json.dumps(body).encode()
    assert _post_raw(client, raw, _signed(raw)).status_code == 200

    # when the worker processes it
    event = WebhookEvent.objects.get()
    status = webhook_event_process(event_id=event.pk)

    # then it is failed with a reason, kept for replay, and no snapshot was half-written
    event.refresh_from_db()
    assert status == "failed"
    assert "payload does not match" in event.last_error
    assert not OrderSnapshot.objects.exists()


def test_echo_of_our_own_write_is_recorded_as_echo_and_still_updates_the_snapshot(client, test_installation):
    body = order_body(issuingPrincipal={"__typename": "App", "id": APP_ID, "name": "Support Cases App"})
    raw = json.dumps(body).encode()
    assert _post_raw(client, raw, _signed(raw)).status_code == 200

    event = WebhookEvent.objects.get()
    webhook_event_process(event_id=event.pk)

    assert event.is_echo is True
    assert OrderSnapshot.objects.get().status == body["order"]["status"]
