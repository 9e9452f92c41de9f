"""Rate limit of the shopper mutations that create something (a case, a return or refund request, a message).

Two buckets per installation, both counted for every create: the shopper (a customer by Saleor user id,
else by e-mail; a guest by the order they proved) at ``SHOPPER_RATE_LIMIT``, and the client IP at the
higher ``SHOPPER_IP_RATE_LIMIT`` (one browser cycling through guest proofs or accounts). All creating
mutations share the buckets: each of them opens a case for staff.

A refusal is the mutation's own payload error ``RATE_LIMITED`` (the resolver maps it like any service
error) and nothing is written. A create the service refuses (validation, NOT_FOUND, …) gives its hit back,
so a shopper fixing a typo is not locked out; only what was actually created counts.

Messages on an existing case (caseMessageAdd) have buckets of their own (``shopper_message_throttle``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpRequest

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.errors import SupportErrorCode as Code
from saleor_support_plugin.graphql.context import Context, Shopper
from saleor_support_plugin.ratelimit import Bucket, Rate, RateLimited, rate_limit_release, rate_limit_take


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the socket's, or with ``TRUSTED_PROXY_COUNT`` = n the n-th ``X-Forwarded-For``
    entry from the right (the one our own outermost proxy saw; entries further left are the client's word)."""
    proxies = support_settings().trusted_proxy_count
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if proxies > 0 and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


def _shopper_identity(shopper: Shopper) -> str:
    if shopper.is_guest:
        return f"guest:{shopper.guest_order_id}"
    if shopper.saleor_user_id:
        return f"user:{shopper.saleor_user_id}"
    return f"email:{shopper.email}"


def _retry_message(seconds: int) -> str:
    when = f"{seconds} seconds" if seconds < 90 else f"{-(-seconds // 60)} minutes"
    return f"Too many requests: please try again in {when}."


@contextmanager
def shopper_create_throttle(context: Context) -> Iterator[None]:
    """Count one create for the calling shopper and IP around the service call, or refuse with RATE_LIMITED.

    The hit is given back if the body raises (the service created nothing).
    """
    conf = support_settings()
    with _throttle(context, "shopper-create", Rate(*conf.shopper_rate_limit)):
        yield


@contextmanager
def shopper_message_throttle(context: Context) -> Iterator[None]:
    """The same for a message on one of the shopper's cases (caseMessageAdd), with its own, higher budget
    (``SHOPPER_MESSAGE_RATE_LIMIT``): a conversation sends more messages than a shopper opens cases."""
    conf = support_settings()
    with _throttle(context, "shopper-message", Rate(*conf.shopper_message_rate_limit)):
        yield


@contextmanager
def _throttle(context: Context, action: str, rate: Rate) -> Iterator[None]:
    shopper = context.get_shopper()
    conf = support_settings()
    prefix = f"{action}:{shopper.installation.pk}:"
    buckets = [Bucket(prefix + _shopper_identity(shopper), rate)]
    ip = client_ip(context.request)
    if ip:
        buckets.append(Bucket(f"{prefix}ip:{ip}", Rate(*conf.shopper_ip_rate_limit)))
    try:
        hold = rate_limit_take(buckets=buckets)
    except RateLimited as exc:
        raise PermanentError(Code.RATE_LIMITED, _retry_message(exc.retry_after)) from exc
    try:
        yield
    except BaseException:
        rate_limit_release(hold)
        raise
