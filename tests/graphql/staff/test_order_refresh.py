"""orderRefresh and order-less case opening fetch the order from Saleor (FakeSaleor, schema-validated)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_support_plugin.models import EventStatus, OrderSnapshot, WebhookEvent
from saleor_support_plugin.services.polling import ORDER_POLLED
from tests.conftest import make_installation
from tests.fixtures.signing import test_jwks as signing_jwks
from tests.graphql.conftest import ORDER_A, make_order, saleor_order, staff_headers

REFRESH = "mutation($id: ID!) { orderRefresh(id: $id) { order { id number userEmail status lines { productName } } " \
          "errors { field code } } }"  # fmt: skip


@pytest.fixture
def shop(db, fake_saleor):
    installation = make_installation(api_url=fake_saleor.api_url, jwks=signing_jwks(), token="app-token")
    fake_saleor.add_app("app-token", installation.app_id)
    return installation


def test_refresh_fetches_the_order_and_updates_the_snapshot_through_the_inbox(gql, shop, fake_saleor):
    # given: a stale snapshot, and Saleor knows the order
    day_ago = timezone.now() - timedelta(days=1)
    make_order(shop, saleor_id=ORDER_A, number="1", user_email="old@example.com", version_stamp=day_ago,
               version_issued_at=day_ago)  # fmt: skip
    fake_saleor.put_order(saleor_order(order_id=ORDER_A, email="ana@example.com", number=1001))
    # when
    result = gql("staff", REFRESH, {"id": ORDER_A}, staff_headers(shop))
    # then
    payload = result.data["orderRefresh"]
    assert payload["errors"] == [], payload
    assert (payload["order"]["number"], payload["order"]["userEmail"]) == ("1001", "ana@example.com")
    assert payload["order"]["lines"]
    assert OrderSnapshot.objects.get(installation=shop, saleor_id=ORDER_A).number == "1001"
    event = WebhookEvent.objects.get(installation=shop, event_type=ORDER_POLLED)
    assert event.status == EventStatus.PROCESSED
    assert fake_saleor.operations() == ["OrderById"]


def test_refreshing_the_same_state_twice_records_one_inbox_row(gql, shop, fake_saleor):
    fake_saleor.put_order(saleor_order(order_id=ORDER_A, email="ana@example.com"))
    for _ in range(2):
        assert gql("staff", REFRESH, {"id": ORDER_A}, staff_headers(shop)).data["orderRefresh"]["errors"] == []
    assert WebhookEvent.objects.filter(installation=shop, event_type=ORDER_POLLED).count() == 1


def test_refresh_of_an_order_saleor_does_not_have_is_not_found(gql, shop, fake_saleor):
    result = gql("staff", REFRESH, {"id": ORDER_A}, staff_headers(shop))
    assert result.data["orderRefresh"] == {"order": None, "errors": [{"field": "id", "code": "NOT_FOUND"}]}


def test_saleor_down_is_temporarily_unavailable(gql, shop, fake_saleor):
    fake_saleor.fail_next(status=503, operation="OrderById")
    result = gql("staff", REFRESH, {"id": ORDER_A}, staff_headers(shop))
    assert result.data["orderRefresh"]["errors"] == [{"field": None, "code": "TEMPORARILY_UNAVAILABLE"}]


def test_case_open_from_an_order_we_never_saw_fetches_it_first(gql, shop, fake_saleor):
    fake_saleor.put_order(saleor_order(order_id=ORDER_A, email="ana@example.com", number=4242))
    result = gql(
        "staff",
        'mutation($o: ID!) { caseOpenFromOrder(input: {orderId: $o, subject: "Follow up"}) '
        "{ case { orderNumber customer { email } order { number } } errors { code } } }",
        {"o": ORDER_A},
        staff_headers(shop),
    )
    case = result.data["caseOpenFromOrder"]["case"]
    assert case == {"orderNumber": "4242", "customer": {"email": "ana@example.com"}, "order": {"number": "4242"}}
