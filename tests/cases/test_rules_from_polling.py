"""The whole lab history, learned only by polling the Saleor double: exactly the right cases open."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from saleor_support_plugin.models import Case, CaseRule, EventStatus, Installation, WebhookEvent
from saleor_support_plugin.services.inbox import webhook_event_process
from saleor_support_plugin.services.installations import installation_client
from saleor_support_plugin.services.polling import installation_poll
from tests.conftest import make_installation
from tests.fixtures import signing
from tests.fixtures.recordings import RECORDED_APP_ID

TOKEN = "poll-app-token"


@pytest.fixture
def installation(db, fake_saleor) -> Installation:
    fake_saleor.add_app(TOKEN, RECORDED_APP_ID)
    fake_saleor.load_recordings(end_at=timezone.now() - timedelta(minutes=1))
    installation = make_installation(api_url=fake_saleor.api_url, token=TOKEN, jwks=signing.test_jwks())
    Installation.objects.filter(pk=installation.pk).update(installed_at=timezone.now() - timedelta(hours=1))
    installation.refresh_from_db()
    return installation


def _poll_and_process(installation) -> None:
    installation_poll(installation=installation, client=installation_client(installation=installation))
    for pk in WebhookEvent.objects.filter(status=EventStatus.RECEIVED).order_by("pk").values_list("pk", flat=True):
        assert webhook_event_process(event_id=pk) == EventStatus.PROCESSED


def test_polling_alone_opens_exactly_the_payment_cases(installation, fake_saleor):
    # when the app learns the lab's history only by polling, twice
    _poll_and_process(installation)
    _poll_and_process(installation)

    # then: the declined checkout (a), the order whose charge was reversed (b2) and the expired order —
    # nothing for paid, fulfilled, refunded or cancelled-unpaid orders, and nothing twice
    cases = {(c.rule, c.value_at_risk, c.customer.email) for c in Case.objects.select_related("customer")}
    assert cases == {
        (CaseRule.CHECKOUT_PAYMENT_FAILED, Decimal("40"), "jane.doe@example.com"),
        (CaseRule.ORDER_PAYMENT_FAILED, Decimal("20"), "mary.major@example.com"),
        (CaseRule.ORDER_EXPIRED_UNPAID, Decimal("20"), "late.payer@example.com"),
    }
    assert fake_saleor.invalid_documents == []
