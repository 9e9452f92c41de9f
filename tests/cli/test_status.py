"""`saleor-support status`: what an operator reads about installations, the inbox backlog and polling."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from saleor_support_plugin.cli import main
from saleor_support_plugin.models import EventSource, EventStatus, PollCursor, WebhookEvent
from saleor_support_plugin.selectors.status import inbox_status_get
from tests.conftest import make_installation

SHOP = "https://shop.example.com/graphql/"
OTHER = "https://other.example.com/graphql/"
_keys = count()


def _event(installation, status, *, age_seconds=0, source=EventSource.WEBHOOK, event_type="ORDER_CREATED"):
    event = WebhookEvent.objects.create(
        installation=installation,
        source=source,
        event_type=event_type,
        dedupe_key=f"status-test-{next(_keys)}",
        raw_body="{}",
        status=status,
    )
    if age_seconds:
        # received_at is auto_now_add: move it back with an UPDATE, as time would.
        WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(seconds=age_seconds))
    return event


@pytest.fixture
def two_shops(db):
    shop = make_installation(api_url=SHOP, app_id="QXBwOjc=")
    other = make_installation(api_url=OTHER, app_id="QXBwOjg=", is_active=False)
    Installation = type(shop)
    Installation.objects.filter(pk=other.pk).update(jwks_fetched_at=timezone.now() - timedelta(hours=3))
    for _ in range(3):
        _event(shop, EventStatus.PROCESSED)
    _event(shop, EventStatus.FAILED)
    oldest = _event(shop, EventStatus.RECEIVED, age_seconds=95, event_type="ORDER_UPDATED")
    _event(shop, EventStatus.RECEIVED, age_seconds=10, source=EventSource.POLL, event_type="ORDER_POLLED")
    _event(other, EventStatus.IGNORED)
    _event(other, EventStatus.RECEIVED, age_seconds=20, source=EventSource.BACKFILL, event_type="ORDER_POLLED")
    PollCursor.objects.create(
        installation=shop,
        kind="orders",
        since=timezone.now() - timedelta(minutes=2),
        last_success_at=timezone.now() - timedelta(minutes=2),
        last_seen=12,
        last_enqueued=3,
    )
    PollCursor.objects.create(installation=shop, kind="transactions", last_error="SALEOR_ERROR: permission denied")
    return shop, other, oldest


def test_status_prints_counts_backlog_age_and_cursors(two_shops, capsys):
    # given two installations with events in every status and two poll cursors
    shop, other, oldest = two_shops

    # when the operator asks for the status
    code = main(["status"])

    # then the tables show who is installed, how the inbox stands and where polling is
    out = capsys.readouterr().out
    assert code == 0
    assert SHOP in out and OTHER in out
    assert re.search(r"Installations \(2\)", out)
    assert re.search(rf"{re.escape(OTHER)}\s+QXBwOjg=\s+no\s+.*3h 0\dm", out), out
    assert "Inbox (8 events)" in out
    # RECEIVED PROCESSED IGNORED FAILED TOTAL, per installation and overall
    assert re.search(rf"{re.escape(SHOP)}\s+2\s+3\s+0\s+1\s+6", out), out
    assert re.search(rf"{re.escape(OTHER)}\s+1\s+0\s+1\s+0\s+2", out), out
    assert re.search(r"all\s+3\s+3\s+1\s+1\s+8", out), out
    assert "by source: webhook 6, poll 1, backfill 1" in out
    assert re.search(rf"oldest unprocessed \(received\): 1m 3\ds old \(#{oldest.pk} ORDER_UPDATED", out), out
    assert "saleor-support replay" in out
    assert re.search(r"orders\s+.*UTC\s+12\s+3", out), out
    assert "SALEOR_ERROR: permission denied" in out


def test_status_json_has_every_section(two_shops, capsys):
    shop, other, oldest = two_shops

    code = main(["status", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data) >= {
        "generated_at",
        "installations",
        "inbox_by_status",
        "inbox_by_installation",
        "inbox_by_source",
        "poll_cursors",
        "oldest_received",
        "oldest_received_age_seconds",
        "total_events",
    }
    assert data["inbox_by_status"] == {"received": 3, "processed": 3, "ignored": 1, "failed": 1}
    assert data["inbox_by_installation"][SHOP]["failed"] == 1
    assert data["inbox_by_installation"][OTHER] == {"received": 1, "processed": 0, "ignored": 1, "failed": 0}
    assert 94 <= data["oldest_received_age_seconds"] < 150
    assert data["oldest_received"]["id"] == oldest.pk
    assert data["oldest_received"]["saleor_api_url"] == SHOP
    by_url = {i["saleor_api_url"]: i for i in data["installations"]}
    assert by_url[SHOP]["app_id"] == "QXBwOjc=" and by_url[SHOP]["is_active"] is True
    assert by_url[OTHER]["is_active"] is False
    assert 3 * 3600 - 5 < by_url[OTHER]["jwks_age_seconds"] < 3 * 3600 + 60
    assert by_url[SHOP]["installed_at"].endswith("+00:00")
    cursors = {c["kind"]: c for c in data["poll_cursors"]}
    assert cursors["orders"]["last_seen"] == 12 and cursors["orders"]["since"] is not None
    assert cursors["transactions"]["last_error"] == "SALEOR_ERROR: permission denied"
    assert cursors["transactions"]["last_success_at"] is None


def test_status_for_one_installation(two_shops, capsys):
    shop, other, _ = two_shops

    code = main(["status", "--json", "--installation", OTHER])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [i["saleor_api_url"] for i in data["installations"]] == [OTHER]
    assert data["total_events"] == 2
    assert data["poll_cursors"] == []
    assert data["oldest_received"]["saleor_api_url"] == OTHER


def test_status_of_an_empty_database(db, capsys):
    code = main(["status"])

    out = capsys.readouterr().out
    assert code == 0
    assert "Installations (0)" in out and "none: install the app" in out
    assert "Inbox (0 events)" in out
    assert "oldest unprocessed (received): none" in out
    assert inbox_status_get().oldest_received_age_seconds is None


def test_status_for_an_unknown_installation_is_a_one_line_error(db, capsys):
    make_installation(api_url=SHOP)

    code = main(["status", "--installation", "https://nope.example.com/graphql/"])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.strip() == (
        "error: no installation for 'https://nope.example.com/graphql/'; known: https://shop.example.com/graphql/"
    )


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err
