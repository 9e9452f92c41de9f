"""Inbound e-mail: where shoppers' mail comes from (a mailbox per installation) and what we already took in."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class InboundMailboxQuerySet(models.QuerySet["InboundMailbox"]):
    def active(self) -> InboundMailboxQuerySet:
        return self.filter(is_active=True, installation__is_active=True)

    def pollable(self) -> InboundMailboxQuerySet:
        return self.active().exclude(imap_host="")


class InboundMailbox(models.Model):
    """One inbound channel of an installation: a provider webhook token and/or an IMAP mailbox to poll.

    Only the sha256 of the webhook token is stored (the token is shown once, when the mailbox is created);
    the IMAP password is Fernet ciphertext (``crypto.token_encrypt``). ``last_uid`` is valid only for
    ``uid_validity``: when the server reports another UIDVALIDITY the folder was recreated and we start over.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    webhook_token_hash = models.CharField(max_length=64, blank=True, default="")
    imap_host = models.CharField(max_length=255, blank=True, default="")
    imap_port = models.PositiveIntegerField(default=993)
    imap_username = models.CharField(max_length=255, blank=True, default="")
    imap_password_encrypted = models.TextField(blank=True, default="")
    imap_folder = models.CharField(max_length=255, default="INBOX")
    use_ssl = models.BooleanField(default=True)
    uid_validity = models.PositiveBigIntegerField(default=0)
    last_uid = models.PositiveBigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # A poll holds this lease (set by a conditional UPDATE) so overlapping beat runs don't poll the same
    # mailbox twice; it expires by itself if a worker dies mid-poll.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InboundMailboxQuerySet.as_manager()

    class Meta:
        db_table = "support_inbound_mailbox"
        constraints = [
            models.UniqueConstraint(
                fields=["webhook_token_hash"],
                condition=~Q(webhook_token_hash=""),
                name="inbound_mailbox_unique_token",
            ),
        ]

    def __str__(self) -> str:
        return f"mailbox {self.pk} of installation {self.installation_id}"


class InboundEmail(models.Model):
    """Receipt of one inbound mail, keyed by its Message-ID: the database's answer to "did we take it in?".

    The same mail arrives twice when a provider retries or when both the webhook and the IMAP poller see it;
    the unique constraint makes the second delivery find the first one's Message instead of adding another.
    """

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    email_message_id = models.CharField(max_length=255)
    message = models.ForeignKey("support.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "support_inbound_email"
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "email_message_id"], name="inbound_email_unique_message_id"
            ),
        ]

    def __str__(self) -> str:
        return self.email_message_id
