"""Rate limit of shopper creates (caseOpen, returnRequestCreate, refundRequest): per shopper and per IP."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from saleor_support_plugin import ratelimit
from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.graphql.throttle import client_ip
from saleor_support_plugin.models import Case, Message
from tests.graphql.conftest import ORDER_A, customer_token, guest_headers, make_order, shopper_headers

WINDOW = 600
# 10 s into a window, far from any other test's counters.
START = WINDOW * 3_000_000 + 10
CASE_OPEN = (
    'mutation { caseOpen(input: {subject: "Where is my parcel?", message: "It has been a week"}) '
    "{ case { id } errors { field code message } } }"
)
RETURN_REQUEST = (
    'mutation($o: ID!) { returnRequestCreate(input: {orderId: $o, lines: [], reason: "x"}) '
    "{ returnRequest { id } errors { field code message } } }"
)


class Clock:
    def __init__(self, monkeypatch) -> None:
        self.now = float(START)
        monkeypatch.setattr(ratelimit, "time_now", lambda: self.now)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(params=["redis", "django-cache"])
def limiter(request, settings, monkeypatch):
    """The default limits (5 per shopper, 50 per IP, 10 minutes), counted in Redis or in Django's cache."""
    settings.SUPPORT_SHOPPER_RATE_LIMIT = (5, WINDOW)
    settings.SUPPORT_SHOPPER_IP_RATE_LIMIT = (50, WINDOW)
    support_settings.cache_clear()
    if request.param == "redis" and ratelimit.redis_client() is None:
        pytest.skip("needs a Redis broker: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15 (make test does)")
    if request.param == "django-cache":
        monkeypatch.setattr(ratelimit, "redis_client", lambda: None)
    yield request.param
    support_settings.cache_clear()


def _customer(installation, email: str, user_id: str, **kw) -> dict:
    return shopper_headers(installation, customer_token(installation, email=email, user_id=user_id)) | kw


def _case_open(gql, headers: dict) -> dict:
    result = gql("shopper", CASE_OPEN, headers=headers)
    assert not result.errors, result.errors
    return result.data["caseOpen"]


def test_sixth_case_within_the_window_is_refused_and_writes_nothing(gql, test_installation, clock, limiter):
    # given: Ana opened five cases
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    for _ in range(5):
        assert _case_open(gql, ana)["errors"] == []
    cases, messages = Case.objects.count(), Message.objects.count()
    # when
    payload = _case_open(gql, ana)
    # then
    assert payload["case"] is None
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == (None, "RATE_LIMITED")
    assert error["message"] == "Too many requests: please try again in 10 minutes."
    assert (Case.objects.count(), Message.objects.count()) == (cases, messages)


def test_another_shopper_is_not_affected(gql, test_installation, clock, limiter):
    # given
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    for _ in range(6):
        _case_open(gql, ana)
    # when
    payload = _case_open(gql, _customer(test_installation, "bob@example.com", "VXNlcjoy"))
    # then
    assert payload["errors"] == [] and payload["case"]["id"]


def test_the_next_window_allows_again(gql, test_installation, clock, limiter):
    # given
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    for _ in range(5):
        _case_open(gql, ana)
    clock.now += 60
    [error] = _case_open(gql, ana)["errors"]
    assert error["code"] == "RATE_LIMITED" and "9 minutes" in error["message"]
    # when: the window has passed
    clock.now = START - 10 + WINDOW
    payload = _case_open(gql, ana)
    # then
    assert payload["errors"] == [] and Case.objects.count() == 6


def test_the_same_shopper_in_another_installation_is_counted_apart(
    gql, test_installation, other_installation, clock, limiter
):
    # given
    from tests.graphql.conftest import OTHER_KID, other_key

    for _ in range(5):
        _case_open(gql, _customer(test_installation, "ana@example.com", "VXNlcjox"))
    other_token = customer_token(
        other_installation, email="ana@example.com", user_id="VXNlcjox", key=other_key()[0], kid=OTHER_KID
    )
    # when
    payload = _case_open(gql, shopper_headers(other_installation, other_token))
    # then
    assert payload["errors"] == []


def test_refused_creates_give_their_hit_back(gql, test_installation, clock, limiter):
    # given: three attempts the service refuses (blank message)
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    for _ in range(3):
        result = gql("shopper", 'mutation { caseOpen(input: {subject: "Hi", message: " "}) { errors { code } } }',
                     headers=ana)  # fmt: skip
        assert result.data["caseOpen"]["errors"][0]["code"] != "RATE_LIMITED"
    # when / then: five real cases still fit, the sixth does not
    assert all(_case_open(gql, ana)["errors"] == [] for _ in range(5))
    assert _case_open(gql, ana)["errors"][0]["code"] == "RATE_LIMITED"


def test_return_and_refund_requests_share_the_shoppers_budget(gql, test_installation, clock, limiter):
    # given: the guest of order A opened five cases
    make_order(test_installation, saleor_id=ORDER_A, user_email="ana@example.com")
    guest = guest_headers(test_installation, order_id=ORDER_A, email="ana@example.com")
    for _ in range(5):
        assert _case_open(gql, guest)["errors"] == []
    # when
    result = gql("shopper", RETURN_REQUEST, {"o": ORDER_A}, guest)
    # then
    assert [e["code"] for e in result.data["returnRequestCreate"]["errors"]] == ["RATE_LIMITED"]


def test_one_ip_is_limited_across_shoppers(gql, test_installation, clock, limiter, settings):
    # given: at most 3 creates per IP
    settings.SUPPORT_SHOPPER_IP_RATE_LIMIT = (3, WINDOW)
    support_settings.cache_clear()
    for n in range(3):
        assert _case_open(gql, _customer(test_installation, f"s{n}@example.com", f"VXNlcjo{n}"))["errors"] == []
    # when
    same_ip = _case_open(gql, _customer(test_installation, "s9@example.com", "VXNlcjo5"))
    other_ip = _case_open(gql, _customer(test_installation, "s9@example.com", "VXNlcjo5", REMOTE_ADDR="10.0.0.7"))
    # then
    assert [e["code"] for e in same_ip["errors"]] == ["RATE_LIMITED"]
    assert other_ip["errors"] == []


def test_a_limit_of_zero_turns_it_off(gql, test_installation, clock, limiter, settings):
    settings.SUPPORT_SHOPPER_RATE_LIMIT = (0, 0)
    support_settings.cache_clear()
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    assert all(_case_open(gql, ana)["errors"] == [] for _ in range(7))


def test_an_unreachable_redis_lets_shoppers_through(gql, test_installation, clock, settings, monkeypatch):
    # given
    import redis

    settings.SUPPORT_SHOPPER_RATE_LIMIT = (1, WINDOW)
    support_settings.cache_clear()
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: down)
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    # when / then
    assert [_case_open(gql, ana)["errors"] for _ in range(2)] == [[], []]
    support_settings.cache_clear()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),  # no proxy trusted: the header is the client's word
        (1, "1.1.1.1, 2.2.2.2", "2.2.2.2"),  # our proxy appended what it saw
        (2, "1.1.1.1, 2.2.2.2", "1.1.1.1"),
        (3, "2.2.2.2", "2.2.2.2"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_our_own_proxies(settings, proxies, forwarded, expected):
    settings.SUPPORT_TRUSTED_PROXY_COUNT = proxies
    support_settings.cache_clear()
    try:
        request = RequestFactory().post("/graphql/shopper/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == expected
    finally:
        support_settings.cache_clear()


MESSAGE_ADD = (
    'mutation($c: ID!) { caseMessageAdd(caseId: $c, message: "Any news?") '
    "{ message { id } errors { field code message } } }"
)


def test_messages_have_their_own_budget_and_the_31st_is_refused(gql, test_installation, clock, limiter, settings):
    # given: Ana's case, and the default message budget (30 per 10 minutes)
    settings.SUPPORT_SHOPPER_MESSAGE_RATE_LIMIT = (30, WINDOW)
    support_settings.cache_clear()
    ana = _customer(test_installation, "ana@example.com", "VXNlcjox")
    case_id = _case_open(gql, ana)["case"]["id"]

    def add() -> dict:
        result = gql("shopper", MESSAGE_ADD, {"c": case_id}, headers=ana)
        assert not result.errors, result.errors
        return result.data["caseMessageAdd"]

    # when: a lively conversation of 30 messages, then one more
    assert all(add()["errors"] == [] for _ in range(30))
    messages = Message.objects.count()
    payload = add()

    # then the 31st is refused and not stored; opening cases was not charged for the messages
    assert payload["message"] is None
    assert [e["code"] for e in payload["errors"]] == ["RATE_LIMITED"]
    assert Message.objects.count() == messages
    assert _case_open(gql, ana)["errors"] == []
