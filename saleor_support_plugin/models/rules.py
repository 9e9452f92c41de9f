from __future__ import annotations

from django.db import models


class RuleSetting(models.Model):
    """Per-installation switch and threshold of one automatic case rule (absent row = defaults)."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=32)
    enabled = models.BooleanField(default=True)
    # Business hours (fulfilment delay) or days (delivery delay) before the rule fires.
    threshold = models.PositiveIntegerField(null=True, blank=True)
    notify_customer = models.BooleanField(default=True)

    class Meta:
        db_table = "support_rule_setting"
        constraints = [models.UniqueConstraint(fields=["installation", "rule"], name="rule_setting_unique")]

    def __str__(self) -> str:
        return f"{self.rule} ({'on' if self.enabled else 'off'})"


class NoticeTemplate(models.Model):
    """A merchant's wording of a proactive e-mail, per rule and language (falls back to shipped defaults)."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=32)
    language = models.CharField(max_length=16, default="en")
    subject = models.CharField(max_length=255)
    body = models.TextField()

    class Meta:
        db_table = "support_notice_template"
        constraints = [
            models.UniqueConstraint(fields=["installation", "rule", "language"], name="notice_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rule}/{self.language}"


class OutboundEmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboundEmail(models.Model):
    """Every e-mail we send (notices and staff replies): queued in the DB, sent by a task after commit."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("support.Case", on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=32)  # notice:<rule> | reply
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=OutboundEmailStatus.choices, default=OutboundEmailStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "support_outbound_email"

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"
