"""The Saleor client over real HTTP (FakeSaleor): what Saleor answers becomes data, RetryableError
(try again later: 5xx, 429, timeouts, unreachable) or PermanentError (will fail the same way again)."""

from __future__ import annotations

import time

import pytest

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode
from saleor_support_plugin.saleor.client import SaleorClient, jwks_fetch
from tests.fixtures import signing

TOKEN = "app-token-1"
APP_ID = "QXBwOjE="


@pytest.fixture
def saleor(fake_saleor):
    fake_saleor.add_app(TOKEN, APP_ID)
    return fake_saleor


@pytest.fixture
def saleor_client(saleor) -> SaleorClient:
    return SaleorClient(api_url=saleor.api_url, token=TOKEN)


@pytest.fixture
def short_timeout(settings):
    support_settings.cache_clear()
    settings.SUPPORT_SALEOR_TIMEOUT_SECONDS = 0.3
    yield
    support_settings.cache_clear()


def test_query_returns_saleors_data_and_sends_the_app_token(saleor_client, saleor):
    # given a Saleor where our token belongs to App:1
    # when we ask who we are
    data = saleor_client.execute("AppId")

    # then we get Saleor's answer, and the request carried our token and our user agent
    assert data == {"app": {"id": APP_ID}}
    (operation, variables, headers), *_ = saleor.requests
    assert operation == "AppId"
    assert variables == {}
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["User-Agent"].startswith("saleor-support-plugin/")


def test_poll_query_returns_recorded_orders(saleor_client, saleor):
    # given Saleor holds the lab's orders
    saleor.load_recordings()

    # when we page the changed orders
    data = saleor_client.execute("PollOrders", {"since": "2026-11-22T00:00:00+00:00", "first": 100, "after": None})

    # then the page is what Saleor recorded, oldest change first
    connection = data["orders"]
    updated = [edge["node"]["updatedAt"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(updated) == 10
    assert updated == sorted(updated)
    assert connection["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_retryable(saleor_client, saleor, status):
    # given Saleor (or Saleor Cloud's rate limiter) answers the next request with this status
    saleor.fail_next(1, status=status)

    # when we query
    with pytest.raises(RetryableError) as caught:
        saleor_client.execute("AppId")

    # then the caller is told to try again later, and the next try succeeds
    assert caught.value.code == SupportErrorCode.TEMPORARILY_UNAVAILABLE
    assert str(status) in caught.value.message
    assert saleor_client.execute("AppId") == {"app": {"id": APP_ID}}


def test_slow_saleor_times_out_as_retryable(saleor_client, saleor, short_timeout):
    # given Saleor takes 3 s to answer while we wait 0.3 s
    saleor.delay_next(1, 3.0)

    # when we query
    started = time.monotonic()
    with pytest.raises(RetryableError) as caught:
        saleor_client.execute("AppId")

    # then we gave up quickly and the caller may retry
    assert time.monotonic() - started < 2.0
    assert "timed out" in caught.value.message


def test_unreachable_saleor_is_retryable(saleor):
    # given a Saleor that went away
    gone = SaleorClient(api_url=saleor.api_url, token=TOKEN)
    saleor.close()

    # when we query
    with pytest.raises(RetryableError) as caught:
        gone.execute("AppId")

    # then it counts as temporarily unavailable
    assert caught.value.code == SupportErrorCode.TEMPORARILY_UNAVAILABLE


def test_permission_denied_is_permanent_with_its_own_code(saleor_client, saleor):
    # given Saleor refuses the query like it refused an app without MANAGE_ORDERS in the lab
    saleor.graphql_error_next("To access this path, you need one of the following permissions: MANAGE_ORDERS")

    # when we query
    with pytest.raises(PermanentError) as caught:
        saleor_client.execute("OrderById", {"id": "T3JkZXI6MQ=="})

    # then retrying will not help, and the error says why
    assert caught.value.code == SupportErrorCode.SALEOR_PERMISSION_DENIED
    assert "MANAGE_ORDERS" in caught.value.message


def test_unknown_token_is_permission_denied(saleor):
    # given a token Saleor does not know (Saleor treats the caller as anonymous)
    stranger = SaleorClient(api_url=saleor.api_url, token="not-a-token")

    # when we read orders
    with pytest.raises(PermanentError) as caught:
        stranger.execute("PollOrders", {"since": "2026-11-22T00:00:00+00:00", "first": 100})

    # then it is a permanent permission problem
    assert caught.value.code == SupportErrorCode.SALEOR_PERMISSION_DENIED


def test_other_graphql_errors_are_permanent(saleor_client, saleor):
    # given Saleor reports a plain GraphQL error
    saleor.graphql_error_next("Couldn't resolve id: nope.", code="GraphQLError")

    # when we query
    with pytest.raises(PermanentError) as caught:
        saleor_client.execute("OrderById", {"id": "nope"})

    # then it is permanent, but not a permission problem
    assert caught.value.code == SupportErrorCode.SALEOR_ERROR
    assert "Couldn't resolve id" in caught.value.message


def test_non_json_answer_is_permanent(saleor_client, saleor):
    # given something in front of Saleor answers 200 with an HTML page
    saleor.respond_next(1, status=200, body=b"<html>maintenance</html>", content_type="text/html")

    # when we query
    with pytest.raises(PermanentError) as caught:
        saleor_client.execute("AppId")

    # then it is reported as a Saleor error, not a crash
    assert caught.value.code == SupportErrorCode.SALEOR_ERROR
    assert "JSON" in caught.value.message


@pytest.mark.parametrize("status", [401, 403])
def test_http_auth_refusal_is_permission_denied(saleor_client, saleor, status):
    # given a proxy in front of Saleor refuses us
    saleor.respond_next(1, status=status, body=b'{"detail": "no"}', content_type="application/json")

    # when we query
    with pytest.raises(PermanentError) as caught:
        saleor_client.execute("AppId")

    # then it is a permanent permission problem
    assert caught.value.code == SupportErrorCode.SALEOR_PERMISSION_DENIED


def test_invalid_document_is_refused_like_saleor_does(saleor_client, saleor):
    # given a document Saleor would refuse (a field Fulfillment does not have)
    saleor.allow_invalid_documents = True
    document = 'query Bad { order(id: "T3JkZXI6MQ==") { fulfillments { number } } }'

    # when we send it
    with pytest.raises(PermanentError) as caught:
        saleor_client.execute_document(document, what="Bad")

    # then Saleor's HTTP 400 becomes a permanent error carrying Saleor's message, and the fake noticed
    assert caught.value.code == SupportErrorCode.SALEOR_ERROR
    assert "Cannot query field 'number' on type 'Fulfillment'" in caught.value.message
    assert saleor.invalid_documents[0]["errors"] == ["Cannot query field 'number' on type 'Fulfillment'."]


def test_missing_required_variable_is_refused(saleor_client, saleor):
    # given a poll sent without its required $since
    saleor.allow_invalid_documents = True

    # when we send it
    with pytest.raises(PermanentError) as caught:
        saleor_client.execute("PollOrders", {"first": 100})

    # then Saleor refuses it and nothing is returned
    assert "$since" in caught.value.message
    assert len(saleor.invalid_documents) == 1


def test_jwks_fetch_returns_saleors_keys(saleor):
    # given Saleor serves its JWKS
    # when we fetch it
    jwks = jwks_fetch(saleor.api_url)

    # then we get its keys
    assert jwks == {"keys": signing.test_jwks()["keys"]}
    assert saleor.jwks_requests == 1


@pytest.mark.parametrize(
    ("jwks_fail", "jwks", "expected"),
    [
        (True, None, PermanentError),
        (500, None, RetryableError),
        (False, {"keys": []}, PermanentError),
        (False, {"keys": [{"kty": "RSA"}]}, PermanentError),
        (False, ["not", "a", "jwks"], PermanentError),
    ],
    ids=["not-served", "server-error", "no-keys", "key-without-kid", "not-an-object"],
)
def test_jwks_problems_are_classified(saleor, jwks_fail, jwks, expected):
    # given Saleor's JWKS endpoint misbehaves
    saleor.jwks_fail = jwks_fail
    if jwks is not None:
        saleor.jwks = jwks

    # when we fetch it
    with pytest.raises(expected) as caught:
        jwks_fetch(saleor.api_url)

    # then a broken JWKS is permanent (JWKS_NOT_AVAILABLE where it was served but unusable) and 5xx is retryable
    if jwks is not None:
        assert caught.value.code == SupportErrorCode.JWKS_NOT_AVAILABLE


def test_query_the_double_cannot_answer_is_refused_not_invented(saleor_client, saleor):
    # given a valid Saleor query that FakeSaleor does not implement
    document = "query ShopVersion { shop { version } }"

    # when we send it
    with pytest.raises(PermanentError):
        saleor_client.execute_document(document, what="ShopVersion")

    # then the double refuses and records it instead of making an answer up
    assert saleor.unhandled_operations == ["ShopVersion (not implemented by FakeSaleor)"]
    assert saleor.invalid_documents == []


def test_date_and_type_in_one_events_item_returns_old_failures(saleor_client, saleor):
    # given Saleor holds the lab's failures (all from 2026-11-22) and a poll written the way POLLING.md §5 warns
    saleor.load_recordings()
    document = """query PollPaymentFailures($since: DateTime!) {
      transactions(first: 100, sortBy: {field: CREATED_AT, direction: ASC},
                   where: {events: [{createdAt: {gte: $since}, type: {oneOf: [CHARGE_FAILURE]}}]}) {
        edges { node { id } }
      }
    }"""

    # when it asks for failures since a moment after all of them
    data = saleor_client.execute_document(document, {"since": "2030-01-01T00:00:00+00:00"}, what="combined")

    # then Saleor 3.24 drops the date and returns every failure ever, which is why our poll splits the item
    assert len(data["transactions"]["edges"]) >= 3
