"""Shopper feedback: CSAT on resolved cases, NPS after delivery, and each installation's survey settings."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class FeedbackKind(models.TextChoices):
    CSAT = "csat", "Satisfaction with a resolved case (1–5)"
    NPS = "nps", "Likelihood to recommend after delivery (0–10)"


# Allowed scores per kind; the check constraint below and ``feedback_answer`` both read it.
SCORE_RANGES: dict[str, tuple[int, int]] = {FeedbackKind.CSAT: (1, 5), FeedbackKind.NPS: (0, 10)}


class FeedbackEmailStatus(models.TextChoices):
    # CSAT: the e-mail is an OutboundEmail of the case (``FeedbackRequest.outbound_email`` holds its state).
    OUTBOX = "outbox", "In the case's outbox"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class FeedbackSettings(models.Model):
    """Whether and when an installation asks shoppers for feedback (absent row = both surveys off).

    Off by default: a survey is an unsolicited e-mail, so the merchant opts in. ``*_enabled_at`` is when
    a survey was last switched on; the scan only asks about cases/orders finished after it, so switching
    CSAT on does not mail every shopper whose case was ever resolved.
    """

    installation = models.OneToOneField("support.Installation", on_delete=models.CASCADE, related_name="+")
    csat_enabled = models.BooleanField(default=False)
    csat_enabled_at = models.DateTimeField(null=True, blank=True)
    # Minutes after resolution before the CSAT e-mail goes out (a reopened case is not asked).
    csat_delay_minutes = models.PositiveIntegerField(default=60)
    nps_enabled = models.BooleanField(default=False)
    nps_enabled_at = models.DateTimeField(null=True, blank=True)
    # Minutes after delivery (or after the last shipment when no carrier reports delivery) before NPS.
    nps_delay_minutes = models.PositiveIntegerField(default=3 * 24 * 60)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_feedback_settings"

    def __str__(self) -> str:
        return f"feedback settings of installation {self.installation_id}"


class FeedbackRequest(models.Model):
    """One survey sent to a shopper, and their answer, reached through the random ``token`` in the link.

    CSAT requests belong to a case and are e-mailed through the case's outbox (``outbound_email``); NPS
    requests belong to an order and may have no case, so they carry their own delivery state
    (``email_*``). The answer can be changed until ``expires_at`` (``feedback_answer``).
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=FeedbackKind.choices)
    token = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey(
        "support.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="feedback_requests"
    )
    customer = models.ForeignKey(
        "support.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback_requests"
    )
    order_saleor_id = models.CharField(max_length=255, blank=True, default="")
    order_number = models.CharField(max_length=64, blank=True, default="")
    # Saleor sales channel of the order (metrics filter); empty when the case has no order.
    channel_slug = models.CharField(max_length=255, blank=True, default="")
    language_code = models.CharField(max_length=16, blank=True, default="")
    to_email = models.EmailField(max_length=254)
    outbound_email = models.ForeignKey(
        "support.OutboundEmail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email_status = models.CharField(
        max_length=10, choices=FeedbackEmailStatus.choices, default=FeedbackEmailStatus.QUEUED
    )
    email_message_id = models.CharField(max_length=255, blank=True, default="")
    email_attempts = models.PositiveIntegerField(default=0)
    email_error = models.TextField(blank=True, default="")
    email_sent_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "support_feedback_request"
        constraints = [
            # One CSAT per case and one NPS per order, ever: the scan may run twice, the shopper is asked once.
            models.UniqueConstraint(
                fields=["installation", "case"],
                condition=Q(kind=FeedbackKind.CSAT),
                name="feedback_one_csat_per_case",
            ),
            models.UniqueConstraint(
                fields=["installation", "order_saleor_id"],
                condition=Q(kind=FeedbackKind.NPS),
                name="feedback_one_nps_per_order",
            ),
            models.CheckConstraint(
                condition=Q(kind=FeedbackKind.NPS) | Q(case__isnull=False), name="feedback_csat_has_case"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True)
                | Q(kind=FeedbackKind.CSAT, score__gte=1, score__lte=5)
                | Q(kind=FeedbackKind.NPS, score__gte=0, score__lte=10),
                name="feedback_score_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["installation", "kind", "answered_at"], name="feedback_answered_idx"),
            models.Index(fields=["installation", "to_email"], name="feedback_email_idx"),
            models.Index(fields=["email_status"], name="feedback_email_queued_idx", condition=Q(email_status="queued")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request {self.pk} ({'answered' if self.answered_at else 'open'})"
