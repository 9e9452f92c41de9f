"""`saleor-support backfill` and `poll` against FakeSaleor over real HTTP.

Backfill records orders with the poller's dedupe keys, so re-running it, or running it next to the
poller, never adds an order state twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_support_plugin.cli import main
from saleor_support_plugin.models import WebhookEvent
from tests.conftest import make_installation
from tests.fixtures import signing
from tests.fixtures.recordings import recorded
from tests.fixtures.saleor_store import order_like

TOKEN = "backfill-app-token"
APP_ID = "QXBwOjc="
HISTORY = 130  # more than one page (PAGE_SIZE 100)
RECENT = 3  # inside the first poll's window
ANCIENT = 2  # older than the default 365 days


@pytest.fixture
def shop(fake_saleor, db):
    """A Saleor with 135 orders of various ages, and our installation of it."""
    fake_saleor.add_app(TOKEN, APP_ID)
    template = recorded("ORDER_CREATED-c_order_expired.json").body["order"]
    now = timezone.now()
    number = iter(range(1000, 2000))
    for i in range(HISTORY):
        fake_saleor.put_order(order_like(template, number=next(number), updated_at=now - timedelta(days=30, minutes=i)))
    for i in range(RECENT):
        fake_saleor.put_order(order_like(template, number=next(number), updated_at=now - timedelta(seconds=60 + i)))
    for i in range(ANCIENT):
        fake_saleor.put_order(order_like(template, number=next(number), updated_at=now - timedelta(days=400 + i)))
    installation = make_installation(api_url=fake_saleor.api_url, app_id=APP_ID, token=TOKEN, jwks=signing.test_jwks())
    return fake_saleor, installation


def _polled_rows() -> Counter:
    return Counter(WebhookEvent.objects.filter(event_type="ORDER_POLLED").values_list("source", flat=True))


def test_backfill_imports_history_once(shop, capsys):
    fake, installation = shop

    # when the operator backfills with the defaults (one installation, the last 365 days)
    code = main(["backfill", "--no-progress"])

    # then every order changed in that year is one new inbox row, marked as coming from the backfill
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{HISTORY + RECENT} orders seen, {HISTORY + RECENT} new inbox events" in out
    assert _polled_rows() == {"backfill": HISTORY + RECENT}
    assert WebhookEvent.objects.values("object_id").distinct().count() == HISTORY + RECENT
    assert WebhookEvent.objects.filter(status="received", installation=installation).count() == HISTORY + RECENT
    pages = [variables for op, variables, _ in fake.requests if op == "PollOrders"]
    assert len(pages) == 2 and pages[1]["after"]
    since = timezone.datetime.fromisoformat(pages[0]["since"])
    assert abs((timezone.now() - since) - timedelta(days=365)) < timedelta(minutes=5)

    # when it runs again, nothing is counted twice
    assert main(["backfill", "--no-progress"]) == 0
    assert f"{HISTORY + RECENT} orders seen, 0 new inbox events" in capsys.readouterr().out
    assert _polled_rows() == {"backfill": HISTORY + RECENT}

    # and an earlier --since adds only what is older
    assert main(["backfill", "--no-progress", "--since", "2000-01-01"]) == 0
    assert f"{HISTORY + RECENT + ANCIENT} orders seen, {ANCIENT} new inbox events" in capsys.readouterr().out


def test_backfill_next_to_the_poller_never_double_counts(shop, capsys):
    fake, installation = shop

    # given the poller already ran and recorded the recent orders
    assert main(["poll"]) == 0
    out = capsys.readouterr().out
    assert f"polled {fake.api_url}" in out
    assert [line.split() for line in out.splitlines() if line.strip().startswith("orders")] == [
        ["orders", str(RECENT), str(RECENT), "ok"]
    ]
    assert _polled_rows() == {"poll": RECENT}

    # when the backfill runs over the same orders
    assert main(["backfill", "--no-progress", "--installation", fake.api_url]) == 0

    # then only the orders the poller had not seen are new
    assert f"{HISTORY + RECENT} orders seen, {HISTORY} new inbox events" in capsys.readouterr().out
    assert _polled_rows() == {"poll": RECENT, "backfill": HISTORY}

    # and the next poll sees the recent orders again, but adds nothing
    assert main(["poll"]) == 0
    out = capsys.readouterr().out
    assert [line.split() for line in out.splitlines() if line.strip().startswith("orders")] == [
        ["orders", str(RECENT), "0", "ok"]
    ]
    assert WebhookEvent.objects.count() == HISTORY + RECENT


def test_backfill_shows_progress_with_saleors_total(shop, capsys):
    assert main(["backfill", "--since", "2000-01-01"]) == 0

    captured = capsys.readouterr()
    total = HISTORY + RECENT + ANCIENT
    assert f"{total}/{total}" in captured.err
    assert f"{total} orders seen, {total} new inbox events" in captured.out


def test_backfill_stops_cleanly_when_saleor_is_down(shop, capsys):
    fake, _ = shop
    fake.fail_next(1, status=503, operation="PollOrders")

    code = main(["backfill", "--no-progress"])

    captured = capsys.readouterr()
    assert code == 1
    assert "stopped early: 0 orders seen, 0 new inbox events" in captured.out
    assert captured.err.startswith("error: TEMPORARILY_UNAVAILABLE: PollOrders: Saleor answered HTTP 503.")
    assert "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "last tuesday"], "error: --since 'last tuesday' is not an ISO date such as 2025-01-31"),
        (["--since", "2999-01-01"], "error: --since '2999-01-01' is in the future"),
        (["--installation", "https://nope.example.com/graphql/"], "error: no installation for"),
    ],
)
def test_backfill_usage_errors(shop, capsys, argv, message):
    assert main(["backfill", "--no-progress", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message)
    assert not WebhookEvent.objects.exists()


def test_backfill_needs_to_know_which_installation(db, capsys):
    assert main(["backfill"]) == 1
    assert capsys.readouterr().err.startswith("error: no active installation: install the app from Saleor Dashboard")

    make_installation(api_url="https://one.example.com/graphql/")
    make_installation(api_url="https://two.example.com/graphql/")
    assert main(["poll"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 2 active installations; pick one with --installation URL:")
    assert "https://one.example.com/graphql/, https://two.example.com/graphql/" in err


def test_backfill_refuses_an_inactive_installation(db, capsys):
    make_installation(api_url="https://gone.example.com/graphql/", is_active=False)

    code = main(["backfill", "--installation", "https://gone.example.com/graphql/"])

    assert code == 1
    assert capsys.readouterr().err.strip() == "error: INSTALLATION_INACTIVE: The installation is not active."
