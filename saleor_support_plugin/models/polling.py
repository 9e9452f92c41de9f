from __future__ import annotations

from django.db import models


class PollKind(models.TextChoices):
    ORDERS = "orders", "Orders changed"
    TRANSACTIONS = "transactions", "Payment failures"
    CHECKOUTS = "checkouts", "Checkouts changed"


class PollCursor(models.Model):
    """Where the incremental poll of one kind stands for one installation."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=PollKind.choices)
    # Start time of the last fully successful poll; the next one asks for changes since (this - overlap).
    since = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    # Held while a poll runs so overlapping beat ticks do not poll the same kind twice.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_seen = models.PositiveIntegerField(default=0)
    last_enqueued = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "support_poll_cursor"
        constraints = [
            models.UniqueConstraint(fields=["installation", "kind"], name="poll_cursor_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} since {self.since}"
