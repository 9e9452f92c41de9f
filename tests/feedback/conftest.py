from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Case, Installation
from saleor_support_plugin.services.cases import case_open, case_reply, case_resolve
from saleor_support_plugin.services.feedback import feedback_settings_update
from tests.email.conftest import smtp_server  # noqa: F401 (a real SMTP server, shared with the e-mail tests)
from tests.feedback import builders
from tests.graphql.conftest import gql  # noqa: F401 (the GraphQL client fixture, for the API tests here)

STAFF = Actor.staff(email="agent@shop.example.com", user_id="VXNlcjoy")
T0 = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


@pytest.fixture
def other_installation(db) -> Installation:
    return builders.other_shop()


@pytest.fixture
def surveys_on(test_installation) -> Installation:
    """Both surveys switched on a week before T0: CSAT 60 minutes after resolution, NPS 3 days after delivery."""
    feedback_settings_update(
        installation=test_installation,
        csat_enabled=True,
        csat_delay_minutes=60,
        nps_enabled=True,
        nps_delay_minutes=3 * 24 * 60,
        at=T0 - timedelta(days=7),
    )
    return test_installation


def resolved_case(
    installation: Installation,
    *,
    at: datetime = T0,
    email: str = "ana@example.com",
    name: str = "Ana",
    language: str = "EN",
    answered: bool = True,
) -> Case:
    """A storefront case opened at ``at``, answered by staff an hour later (if ``answered``), resolved at +2 h."""
    case = case_open(
        installation=installation,
        subject="Where is my parcel?",
        actor=Actor.customer(email=email),
        source="storefront",
        customer_email=email,
        customer_name=name,
        language_code=language,
        first_message="Hello, my parcel has not arrived.",
        order_saleor_id="T3JkZXI6MQ==",
        order_number="1042",
        at=at,
    )
    if answered:
        case_reply(case=case, body="It is on its way.", actor=STAFF, at=at + timedelta(hours=1))
    return case_resolve(case=case, actor=STAFF, at=at + timedelta(hours=2))
