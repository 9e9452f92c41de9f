"""``POST /api/register``: Saleor hands us an app token at install; we keep it only once Saleor vouches for it.

Driven through Django's test client exactly as Saleor calls it (docs §3.1), while the view's own Saleor client
really talks HTTP to FakeSaleor. Any non-2xx makes Saleor delete the app, so every refusal must leave no row.
"""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.crypto import token_decrypt
from saleor_support_plugin.models import Installation
from saleor_support_plugin.services.installations import installation_deactivate
from tests.fixtures import signing

TOKEN = "saleor-app-token-AbCdEf0123456789"
APP_ID = "QXBwOjE="

pytestmark = pytest.mark.django_db


@pytest.fixture
def saleor(fake_saleor):
    fake_saleor.add_app(TOKEN, APP_ID)
    return fake_saleor


@pytest.fixture
def allow_list(settings):
    """Set ALLOWED_SALEOR_URLS for one test (support_settings() is cached)."""

    def apply(patterns: list[str]) -> None:
        settings.SUPPORT_ALLOWED_SALEOR_URLS = patterns
        support_settings.cache_clear()

    yield apply
    support_settings.cache_clear()


def register(client, saleor, body: object = None, *, method: str = "post", **headers):
    meta = {
        "HTTP_SALEOR_API_URL": saleor.api_url,
        "HTTP_SALEOR_DOMAIN": saleor.domain,
        "HTTP_SALEOR_SCHEMA_VERSION": "3.24",
        "HTTP_USER_AGENT": "Saleor/3.24",
    }
    meta.update(headers)
    meta = {k: v for k, v in meta.items() if v is not None}
    if method == "get":
        return client.get("/api/register", **meta)
    raw = body if isinstance(body, bytes) else json.dumps({"auth_token": TOKEN} if body is None else body)
    return getattr(client, method)("/api/register", data=raw, content_type="application/json", **meta)


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["success"] is False
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]
    assert not Installation.objects.exists()


def test_install_stores_the_installation_saleor_vouched_for(client, saleor):
    # given a Saleor where our token belongs to App:1
    # when Saleor posts the token to our register endpoint
    response = register(client, saleor)

    # then Saleor is told the install worked
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    # and one installation holds what Saleor itself confirmed: the app id and its signing keys
    installation = Installation.objects.get()
    assert installation.saleor_api_url == saleor.api_url
    assert installation.app_id == APP_ID
    assert installation.jwks == signing.test_jwks()
    assert installation.jwks_fetched_at is not None
    assert installation.domain == saleor.domain
    assert installation.schema_version == "3.24"
    assert installation.is_active
    # and we asked Saleor with that very token, using only documents Saleor accepts
    assert [(op, headers["Authorization"]) for op, _, headers in saleor.requests] == [("AppId", f"Bearer {TOKEN}")]
    assert saleor.jwks_requests == 1
    assert saleor.invalid_documents == []


def test_token_is_encrypted_at_rest(client, saleor):
    # given a completed install
    assert register(client, saleor).status_code == 200

    # when the stored row is read back as the database holds it
    stored = list(Installation.objects.values())[0]

    # then the token appears nowhere in plain text, yet we can still use it
    assert TOKEN not in json.dumps(stored, default=str)
    assert token_decrypt(stored["token_encrypted"]) == TOKEN


def test_reinstall_replaces_app_and_token_and_reactivates(client, saleor):
    # given an installation that Saleor later reported deleted
    assert register(client, saleor).status_code == 200
    installation_deactivate(installation=Installation.objects.get(), app_id=APP_ID)
    # and the shop installs the app again: a new App with a new token
    saleor.add_app("second-token-xyz", "QXBwOjg=")

    # when Saleor posts the new token
    response = register(client, saleor, {"auth_token": "second-token-xyz"})

    # then the same installation now belongs to the new app and works again
    assert response.status_code == 200, response.content
    installation = Installation.objects.get()
    assert installation.app_id == "QXBwOjg="
    assert token_decrypt(installation.token_encrypted) == "second-token-xyz"
    assert installation.is_active
    assert installation.deactivated_at is None
    assert saleor.invalid_documents == []


@pytest.mark.parametrize("answer", ["permission_denied", "null"])
def test_token_saleor_does_not_know_is_refused(client, saleor, answer):
    # given Saleor does not know the token (answered as Saleor's code does, or as a bare null)
    saleor.unknown_token_answer = answer

    # when someone registers with it
    response = register(client, saleor, {"auth_token": "forged-token"})

    # then the install is refused the way @saleor/app-sdk does, and nothing is stored
    assert_refused(response, 401, "UNKNOWN_APP_ID")
    assert saleor.operations() == ["AppId"]
    assert saleor.jwks_requests == 0
    assert saleor.invalid_documents == []


def test_unavailable_jwks_is_refused(client, saleor):
    # given Saleor knows the token but does not serve its signing keys
    saleor.jwks_fail = True

    # when Saleor posts the token
    response = register(client, saleor)

    # then we refuse, because we could never verify its webhooks
    assert_refused(response, 401, "JWKS_NOT_AVAILABLE")


def test_unusable_jwks_is_refused(client, saleor):
    # given Saleor serves a JWKS without keys
    saleor.jwks = {"keys": []}

    # when Saleor posts the token
    # then we refuse it as unavailable keys
    assert_refused(register(client, saleor), 401, "JWKS_NOT_AVAILABLE")


def test_allowed_saleor_is_installed(client, saleor, allow_list):
    # given only Saleors on this host may install the app
    allow_list([r"http://127\.0\.0\.1:\d+/graphql/"])

    # when that Saleor installs
    response = register(client, saleor)

    # then it works
    assert response.status_code == 200, response.content
    assert Installation.objects.count() == 1


@pytest.mark.parametrize(
    "patterns",
    [
        [r"https://shop\.example\.com/graphql/"],
        [r"http://127\.0\.0\.1"],  # a prefix is not enough: the whole URL must match
        [r"http://127\.0\.0\.1:\d+/graphql"],  # nor is a match missing the trailing slash
    ],
    ids=["other-shop", "prefix-only", "no-trailing-slash"],
)
def test_saleor_outside_the_allow_list_is_refused_without_contacting_it(client, saleor, allow_list, patterns):
    # given an allow-list that does not cover this Saleor URL in full
    allow_list(patterns)

    # when it tries to install
    response = register(client, saleor)

    # then it is forbidden, and we never sent its token anywhere
    assert_refused(response, 403, "SALEOR_URL_NOT_ALLOWED")
    assert saleor.requests == []
    assert saleor.jwks_requests == 0


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (None, {"HTTP_SALEOR_API_URL": None}, 400, "REQUIRED"),
        (None, {"HTTP_SALEOR_API_URL": "ftp://127.0.0.1/graphql/"}, 400, "INVALID"),
        ({}, {}, 400, "REQUIRED"),
        ({"auth_token": "   "}, {}, 400, "REQUIRED"),
        ({"auth_token": 12345}, {}, 400, "REQUIRED"),
        (b"auth_token=abc", {}, 400, "INVALID"),
        (["auth_token"], {}, 400, "REQUIRED"),
        ({"auth_token": "x" * 5000}, {}, 400, "REQUIRED"),
    ],
    ids=[
        "no-api-url",
        "not-http",
        "no-token",
        "blank-token",
        "token-not-a-string",
        "not-json",
        "json-not-an-object",
        "token-too-long",
    ],
)
def test_malformed_register_request_is_refused(client, saleor, body, headers, status, code):
    # given a request that is not a well-formed Saleor token hand-over
    # when it reaches the register endpoint
    response = register(client, saleor, body, **headers)

    # then it is refused with a reason Saleor can show, nothing is stored, and Saleor was not asked
    assert_refused(response, status, code)
    assert saleor.requests == []


@pytest.mark.parametrize("method", ["get", "put"])
def test_register_only_accepts_post(client, saleor, method):
    # given a request with another method
    # when it reaches the register endpoint
    response = register(client, saleor, method=method)

    # then it is refused with 405
    assert_refused(response, 405, "INVALID")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_saleor_down_fails_the_install_with_a_gateway_error(client, saleor, status):
    # given Saleor cannot answer right now
    saleor.fail_next(1, status=status)

    # when it posts the token
    response = register(client, saleor)

    # then the install fails with a 502 that tells the staff member to try again, and nothing is stored
    assert response.status_code == 502, response.content
    assert response.json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
    assert "Could not reach Saleor" in response.json()["error"]["message"]
    assert not Installation.objects.exists()


def test_jwks_server_error_fails_the_install_with_a_gateway_error(client, saleor):
    # given Saleor's JWKS endpoint answers 500 for a moment
    saleor.jwks_fail = 500

    # when it posts the token
    response = register(client, saleor)

    # then the install fails as "could not reach Saleor", and nothing is stored
    assert response.status_code == 502, response.content
    assert not Installation.objects.exists()


def test_saleor_refusing_the_app_query_fails_the_install(client, saleor):
    # given Saleor answers the app query with a permission error for a known token (e.g. app deactivated)
    saleor.graphql_error_next("To access this path, you need one of the following permissions: AUTHENTICATED_APP")

    # when it posts the token
    # then we refuse as an unknown app, and nothing is stored
    assert_refused(register(client, saleor), 401, "UNKNOWN_APP_ID")
