from __future__ import annotations

from django.db import models


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class EventSource(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    POLL = "poll", "Poll"
    BACKFILL = "backfill", "Backfill"


class WebhookEventQuerySet(models.QuerySet["WebhookEvent"]):
    def pending(self) -> WebhookEventQuerySet:
        return self.filter(status=EventStatus.RECEIVED)


class WebhookEvent(models.Model):
    """The durable inbox: every verified webhook and every polled change, exactly once.

    ``dedupe_key`` is sha256 over the Saleor URL, the event kind and the exact bytes (webhooks) or the
    object id and its change stamp (polling). Saleor retries and re-polls hit the unique constraint and
    are answered "already have it" instead of being counted twice.
    """

    # No index of its own: webhook_event_object_idx starts with installation_id. Every index here is paid
    # for by every webhook (bench/ingest.py), so the inbox keeps only those a query needs.
    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=16, choices=EventSource.choices, default=EventSource.WEBHOOK)
    event_type = models.CharField(max_length=64)
    # Unique through Meta.constraints, not unique=True: on PostgreSQL that would add a second, LIKE-only index.
    dedupe_key = models.CharField(max_length=64)
    raw_body = models.TextField()
    object_id = models.CharField(max_length=255, blank=True, default="")
    issued_at = models.DateTimeField(null=True, blank=True)
    # Saleor says our own app caused this change: the snapshot is updated, but rules must not react.
    is_echo = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # While ``received``: not before this moment (a retry's backoff); null means "as soon as possible".
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        db_table = "support_webhook_event"
        indexes = [
            # The drain's "next due row" (status, oldest first, not before next_attempt_at), the sweeper, and
            # the status/replay listings by status and age.
            models.Index(fields=["status", "received_at", "next_attempt_at"], name="webhook_event_status_idx"),
            models.Index(fields=["installation", "object_id"], name="webhook_event_object_idx"),
        ]
        constraints = [
            # INSERT … ON CONFLICT (dedupe_key) DO NOTHING relies on it (services/inbox.py).
            models.UniqueConstraint(fields=["dedupe_key"], name="webhook_event_dedupe_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} ({self.status})"


class InboxDrainState(models.Model):
    """One row (id 1) shared by every web process and worker: whether a drain is known to be on its way.

    ``pending_until``: a drain was published and has not started yet (inbox_drain.py); past this moment the
    flag no longer holds (the drain's message may have been lost). ``retry_at``: when the one delayed drain
    for due retries will run.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    pending_until = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "support_inbox_drain_state"

    def __str__(self) -> str:
        return f"inbox drain state (pending until {self.pending_until})"
