"""CORS of /graphql/shopper/: storefront origins on SHOPPER_CORS_ORIGINS may call it from the browser."""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.conf import support_settings
from tests.graphql.conftest import customer_token, shopper_headers, staff_headers

STOREFRONT = "https://shop.example.com"
MY_CASES = json.dumps({"query": "{ myCases { totalCount } }"})


@pytest.fixture
def storefront_origins(settings):
    settings.SUPPORT_SHOPPER_CORS_ORIGINS = ["https://Shop.Example.com/", "http://localhost:3000"]
    support_settings.cache_clear()
    yield
    support_settings.cache_clear()


def _preflight(client, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,saleor-api-url",
    )


def _comma_set(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


def test_preflight_from_an_allowed_origin_is_answered_with_cors_headers(client, storefront_origins):
    # when
    response = _preflight(client, "/graphql/shopper/", STOREFRONT)
    # then
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert "post" in _comma_set(response["Access-Control-Allow-Methods"])
    allowed = _comma_set(response["Access-Control-Allow-Headers"])
    assert {"authorization", "content-type", "saleor-api-url", "support-guest-order-id", "support-guest-email"} <= (
        allowed
    )
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "origin" in _comma_set(response["Vary"])
    # tokens travel in headers, never cookies: no credentials mode
    assert "Access-Control-Allow-Credentials" not in response


def test_post_from_an_allowed_origin_is_readable_by_the_page(client, test_installation, storefront_origins):
    # given
    token = customer_token(test_installation, email="ana@example.com")
    # when
    response = client.post(
        "/graphql/shopper/",
        data=MY_CASES,
        content_type="application/json",
        HTTP_ORIGIN="http://localhost:3000",
        **shopper_headers(test_installation, token),
    )
    # then
    assert response.status_code == 200 and response.json()["data"] == {"myCases": {"totalCount": 0}}
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "origin" in _comma_set(response["Vary"])


def test_an_unauthenticated_answer_is_readable_too_so_the_storefront_can_refresh(
    client, test_installation, storefront_origins
):
    # when: an expired token
    token = customer_token(test_installation, email="ana@example.com", expires_in=-3600)
    response = client.post(
        "/graphql/shopper/",
        data=MY_CASES,
        content_type="application/json",
        HTTP_ORIGIN=STOREFRONT,
        **shopper_headers(test_installation, token),
    )
    # then
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert "www-authenticate" in _comma_set(response["Access-Control-Expose-Headers"])


def test_a_disallowed_origin_gets_no_cors_headers(client, test_installation, storefront_origins):
    # when
    preflight = _preflight(client, "/graphql/shopper/", "https://evil.example.net")
    token = customer_token(test_installation, email="ana@example.com")
    post = client.post(
        "/graphql/shopper/",
        data=MY_CASES,
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example.net",
        **shopper_headers(test_installation, token),
    )
    # then: the browser keeps both answers from the page
    for response in (preflight, post):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
        assert "origin" in _comma_set(response["Vary"])
    assert preflight.status_code == 204
    assert post.status_code == 200  # a server-side caller (no CORS involved) is served as before


def test_without_configuration_no_origin_is_allowed(client, settings):
    # given: the default, SHOPPER_CORS_ORIGINS unset
    assert settings.SUPPORT_SHOPPER_CORS_ORIGINS == []
    # when
    response = _preflight(client, "/graphql/shopper/", STOREFRONT)
    # then
    assert "Access-Control-Allow-Origin" not in response


def test_star_allows_any_origin_but_still_names_it(client, settings):
    # given
    settings.SUPPORT_SHOPPER_CORS_ORIGINS = ["*"]
    support_settings.cache_clear()
    try:
        # when
        response = _preflight(client, "/graphql/shopper/", "https://anything.example.org")
    finally:
        support_settings.cache_clear()
    # then
    assert response["Access-Control-Allow-Origin"] == "https://anything.example.org"


def test_staff_endpoint_has_no_cors(client, test_installation, storefront_origins):
    # when: even an origin allowed for shoppers
    preflight = _preflight(client, "/graphql/staff/", STOREFRONT)
    post = client.post(
        "/graphql/staff/",
        data=json.dumps({"query": "{ cases(first: 1) { totalCount } }"}),
        content_type="application/json",
        HTTP_ORIGIN=STOREFRONT,
        **staff_headers(test_installation),
    )
    # then: unchanged behaviour, no CORS header (a preflight needs authentication like any request there)
    assert preflight.status_code == 401
    assert post.status_code == 200 and post.json()["data"]["cases"]["totalCount"] == 0
    for response in (preflight, post):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
