"""The HTTP contract of both endpoints: 401/413/503 shapes, header forms, JWKS refetch, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.models import Installation
from tests.conftest import make_installation
from tests.graphql.conftest import (
    OTHER_KID,
    customer_token,
    dashboard_token,
    make_case,
    other_key,
    shopper_headers,
    staff_headers,
)

CASES = "{ cases(first: 5) { totalCount } }"


def test_missing_token_is_401_with_a_graphql_shaped_body(gql, test_installation):
    result = gql("staff", CASES, headers={"HTTP_SALEOR_API_URL": test_installation.saleor_api_url})
    assert result.status == 401
    assert result.body == {
        "data": None,
        "errors": [
            {"message": "Authentication required: send a Saleor token.", "extensions": {"code": "UNAUTHORIZED"}}
        ],
    }


def test_expired_token_answers_401_with_www_authenticate(client, test_installation):
    response = client.post(
        "/graphql/staff/",
        data=json.dumps({"query": CASES}),
        content_type="application/json",
        **staff_headers(test_installation, dashboard_token(test_installation, expires_in=-100)),
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="saleor-support" error="invalid_token"'
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("api_url", "code"),
    [(None, "REQUIRED"), ("not a url", "INVALID"), ("https://unknown.example.com/graphql/", "UNKNOWN_INSTALLATION")],
)
def test_saleor_api_url_must_name_an_installation(gql, test_installation, api_url, code):
    headers = {"HTTP_AUTHORIZATION_BEARER": dashboard_token(test_installation)}
    if api_url:
        headers["HTTP_SALEOR_API_URL"] = api_url
    result = gql("staff", CASES, headers=headers)
    assert (result.status, result.error_codes) == (401, [code])


def test_inactive_installation_is_refused(gql, test_installation):
    Installation.objects.filter(pk=test_installation.pk).update(is_active=False)
    result = gql("staff", CASES, headers=staff_headers(test_installation))
    assert (result.status, result.error_codes) == (401, ["INSTALLATION_INACTIVE"])


def test_standard_authorization_header_is_accepted_too(gql, test_installation):
    headers = {
        "HTTP_SALEOR_API_URL": test_installation.saleor_api_url,
        "HTTP_AUTHORIZATION": f"Bearer {dashboard_token(test_installation)}",
    }
    result = gql("staff", CASES, headers=headers)
    assert (result.status, result.errors) == (200, [])


def test_token_for_another_app_on_the_same_saleor_is_refused(gql, test_installation):
    token = dashboard_token(test_installation, app="QXBwOjEyMw==")
    result = gql("staff", CASES, headers=staff_headers(test_installation, token))
    assert (result.status, result.error_codes) == (401, ["INVALID_TOKEN"])


def test_token_of_another_installation_under_this_saleor_api_url_is_refused(gql, test_installation, other_installation):
    # given: a genuine token of Saleor B, sent with Saleor A's URL
    token = dashboard_token(other_installation, key=other_key()[0], kid=OTHER_KID)
    # when
    result = gql("staff", CASES, headers=staff_headers(test_installation, token))
    # then: B's key is not in A's JWKS (fetched just now, so no refetch), and the issuer is B
    assert (result.status, result.error_codes) == (401, ["INVALID_TOKEN"])


def test_unknown_key_refetches_the_jwks_once_then_accepts_the_rotated_key(gql, db, fake_saleor):
    # given: an installation whose cached JWKS is stale (fetched long ago) and Saleor rotated to a new key
    installation = make_installation(api_url=fake_saleor.api_url, jwks={"keys": []})
    Installation.objects.filter(pk=installation.pk).update(jwks_fetched_at=timezone.now() - timedelta(hours=1))
    installation.refresh_from_db()
    fake_saleor.jwks = other_key()[1]
    token = dashboard_token(installation, key=other_key()[0], kid=OTHER_KID)
    # when
    first = gql("staff", CASES, headers=staff_headers(installation, token))
    second = gql("staff", CASES, headers=staff_headers(installation, token))
    # then
    assert (first.status, second.status) == (200, 200), (first.body, second.body)
    assert fake_saleor.jwks_requests == 1
    installation.refresh_from_db()
    assert installation.jwks == other_key()[1]


def test_unknown_key_refetches_at_most_once_a_minute(gql, db, fake_saleor):
    installation = make_installation(api_url=fake_saleor.api_url)
    Installation.objects.filter(pk=installation.pk).update(jwks_fetched_at=timezone.now() - timedelta(hours=1))
    installation.refresh_from_db()
    forged = dashboard_token(installation, key=other_key()[0], kid="forged")
    results = [gql("staff", CASES, headers=staff_headers(installation, forged)) for _ in range(3)]
    assert [(r.status, r.error_codes) for r in results] == [(401, ["INVALID_TOKEN"])] * 3
    assert fake_saleor.jwks_requests == 1


def test_jwks_unreachable_is_503_not_401(gql, db, fake_saleor):
    installation = make_installation(api_url=fake_saleor.api_url)
    Installation.objects.filter(pk=installation.pk).update(jwks_fetched_at=timezone.now() - timedelta(hours=1))
    installation.refresh_from_db()
    fake_saleor.jwks_fail = 503
    token = dashboard_token(installation, key=other_key()[0], kid=OTHER_KID)
    result = gql("staff", CASES, headers=staff_headers(installation, token))
    assert (result.status, result.error_codes) == (503, ["TEMPORARILY_UNAVAILABLE"])


def test_oversized_request_is_413_before_it_is_read(client, test_installation):
    limit = support_settings().graphql_max_body_bytes
    body = json.dumps({"query": "{ cases { totalCount } }", "variables": {"x": "a" * limit}})
    response = client.post(
        "/graphql/staff/", data=body, content_type="application/json", **staff_headers(test_installation)
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "query",
    [
        '{ cases(first: "ten") { totalCount } }',  # wrong type
        "{ cases { nope } }",  # unknown field
        'mutation { caseReply(body: "x") { errors { code } } }',  # missing argument
        "{ cases(first: 5) { ",  # syntax error
    ],
)
def test_invalid_documents_are_graphql_errors_not_500(gql, test_installation, query):
    result = gql("staff", query, headers=staff_headers(test_installation))
    assert result.status in (200, 400), result.body
    assert result.data is None and result.errors


def test_not_json_is_400(client, test_installation):
    response = client.post(
        "/graphql/staff/", data="{", content_type="application/json", **staff_headers(test_installation)
    )
    assert response.status_code == 400


def test_page_size_and_cursor_errors_are_clear(gql, test_installation):
    headers = staff_headers(test_installation)
    too_big = gql("staff", "{ cases(first: 1000) { totalCount } }", headers=headers)
    bad_cursor = gql("staff", '{ cases(after: "garbage") { totalCount } }', headers=headers)
    assert too_big.error_codes == ["INVALID"] and "between 1 and 100" in too_big.errors[0]["message"]
    assert bad_cursor.error_codes == ["INVALID"]


def test_unexpected_exception_is_masked_and_still_200(gql, test_installation, monkeypatch):
    from saleor_support_plugin.graphql.staff import cases as staff_cases

    def boom(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(staff_cases, "case_list_for_staff", boom)
    result = gql("staff", CASES, headers=staff_headers(test_installation))
    assert result.status == 200
    assert [e["message"] for e in result.errors] == ["Unexpected error."]


def test_queries_via_get_are_not_served(client, test_installation):
    response = client.get("/graphql/staff/", {"query": CASES}, **staff_headers(test_installation))
    assert response.status_code in (400, 405)


def test_graphiql_is_off_without_debug(client, test_installation):
    response = client.get("/graphql/staff/", HTTP_ACCEPT="text/html")
    assert response.status_code == 401  # no IDE page: treated like any other request
    assert b"graphiql" not in response.content.lower()


def test_shopper_audience_is_required_when_configured(gql, test_installation, settings):
    # given
    settings.SUPPORT_SHOPPER_TOKEN_AUDIENCE = "support"
    support_settings.cache_clear()
    make_case(test_installation, email="ana@example.com")
    plain = customer_token(test_installation, email="ana@example.com")
    scoped = customer_token(test_installation, email="ana@example.com", aud="custom:support")
    query = "{ myCases { totalCount } }"
    try:
        # when
        refused = gql("shopper", query, headers=shopper_headers(test_installation, plain))
        accepted = gql("shopper", query, headers=shopper_headers(test_installation, scoped))
    finally:
        support_settings.cache_clear()
    # then
    assert (refused.status, refused.error_codes) == (401, ["INVALID_TOKEN"])
    assert accepted.data == {"myCases": {"totalCount": 1}}
