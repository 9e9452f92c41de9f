"""Reads for the feedback surveys: settings, a request by its link token, and what is due to be asked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.dateparse import parse_datetime

from saleor_support_plugin.models import (
    Case,
    CaseStatus,
    FeedbackEmailStatus,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSettings,
    Installation,
    OrderSnapshot,
)
from saleor_support_plugin.models.cases import ACTIVE_STATUSES
from saleor_support_plugin.models.gdpr import ERASED_EMAIL_DOMAIN

# How far back the scan looks past the delay: covers a worker that was down, without ever reaching
# back to cases/orders from before the survey was switched on (``*_enabled_at`` bounds it too).
CSAT_LOOKBACK = timedelta(days=7)
# Parcels take a while; an order fulfilled longer ago than this is not asked any more.
NPS_LOOKBACK = timedelta(days=30)
NPS_MAX_SCAN = 5000
# A carrier integration may write this on a fulfilment (see services/case_rules.py DELIVERED_KEY).
DELIVERED_KEY = "delivered_at"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def feedback_settings_get(*, installation: Installation) -> FeedbackSettings:
    """The installation's survey settings; an unsaved default row (both surveys off) when none exists."""
    row = FeedbackSettings.objects.filter(installation=installation).first()
    return row if row is not None else FeedbackSettings(installation=installation)


def feedback_request_get_for_token(*, installation: Installation, token: str) -> FeedbackRequest | None:
    """The survey behind a link token, only within ``installation`` (another shop's token is not found)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    return (
        FeedbackRequest.objects.select_related("case")
        .filter(installation=installation, token=token)
        .exclude(email_status=FeedbackEmailStatus.CANCELLED)
        .first()
    )


def _since(enabled_at: datetime | None, horizon: datetime) -> datetime:
    return max(enabled_at, horizon) if enabled_at is not None else horizon


def feedback_csat_due_case_list(
    *, installation: Installation, settings: FeedbackSettings, now: datetime, limit: int
) -> list[Case]:
    """Resolved cases whose CSAT delay has passed and that were never asked, oldest resolution first.

    Only cases a person answered (``first_responded_at``): a payment-failure case that resolved itself
    when the retry went through had no support conversation to rate. Merged-away cases are skipped.
    """
    until = now - timedelta(minutes=settings.csat_delay_minutes)
    asked = FeedbackRequest.objects.filter(installation=installation, kind=FeedbackKind.CSAT, case=OuterRef("pk"))
    return list(
        Case.objects.filter(
            installation=installation,
            status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
            resolved_at__lte=until,
            resolved_at__gte=_since(settings.csat_enabled_at, until - CSAT_LOOKBACK),
            first_responded_at__isnull=False,
            merged_into__isnull=True,
            customer__isnull=False,
        )
        .exclude(customer__email__endswith=f"@{ERASED_EMAIL_DOMAIN}")
        .filter(~Exists(asked))
        .select_related("customer")
        .order_by("resolved_at", "pk")[:limit]
    )


def order_delivered_at(order: OrderSnapshot) -> datetime | None:
    """When the order reached the shopper, as well as we can tell; None while it is not fully shipped.

    Saleor has no delivered state: a fulfilment's ``delivered_at`` metadata (written by a carrier
    integration) counts where present, else the fulfilment's creation (shipping) time. The order is
    delivered when its last fulfilment is.
    """
    if order.status != "FULFILLED":
        return None
    moments = []
    for fulfillment in order.fulfillments:
        if fulfillment.get("status") != "FULFILLED":
            continue
        meta = {m.get("key"): m.get("value") for m in fulfillment.get("metadata") or []}
        moment = _parse(meta.get(DELIVERED_KEY)) or _parse(fulfillment.get("created"))
        if moment is not None:
            moments.append(moment)
    return max(moments) if moments else None


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def feedback_nps_due_order_list(
    *, installation: Installation, settings: FeedbackSettings, now: datetime, limit: int
) -> list[OrderSnapshot]:
    """Delivered orders whose NPS delay has passed and that were never asked, oldest shipment first.

    Orders with an active support case are left alone: asking "would you recommend us?" in the middle of
    a complaint helps nobody (they are asked once the case is over, if still inside the window).
    """
    delay = timedelta(minutes=settings.nps_delay_minutes)
    until = now - delay
    asked = FeedbackRequest.objects.filter(
        installation=installation, kind=FeedbackKind.NPS, order_saleor_id=OuterRef("saleor_id")
    )
    in_support = Case.objects.filter(
        installation=installation, order_saleor_id=OuterRef("saleor_id"), status__in=ACTIVE_STATUSES
    )
    candidates: QuerySet[OrderSnapshot] = (
        OrderSnapshot.objects.filter(
            installation=installation,
            status="FULFILLED",
            first_fulfilled_at__lte=until,
            first_fulfilled_at__gte=_since(settings.nps_enabled_at, until - NPS_LOOKBACK),
        )
        .exclude(user_email="")
        .filter(~Exists(asked), ~Exists(in_support))
        .order_by("first_fulfilled_at", "pk")
    )
    # Shipped is not delivered: candidates whose carrier has not reported delivery long enough ago are
    # passed over in Python, so read on (a bounded number) instead of stopping at the first ``limit``.
    due = []
    for order in candidates[:NPS_MAX_SCAN].iterator(chunk_size=200):
        delivered = order_delivered_at(order)
        if delivered is not None and delivered + delay <= now:
            due.append(order)
            if len(due) >= limit:
                break
    return due
