"""Inbound mailboxes of an installation: the provider-webhook token and the IMAP poller."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from saleor_support_plugin.crypto import token_decrypt, token_encrypt
from saleor_support_plugin.errors import NoOpError, PermanentError, SupportError
from saleor_support_plugin.imap import imap_folder_select, imap_message_fetch, imap_session, imap_uids_after
from saleor_support_plugin.mail import email_parse_rfc822
from saleor_support_plugin.models import InboundMailbox, Installation
from saleor_support_plugin.services.inbound import email_inbound_receive

logger = logging.getLogger(__name__)

POLL_BATCH = 50


def webhook_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def inbound_mailbox_create(
    *,
    installation: Installation,
    imap_host: str = "",
    imap_port: int = 993,
    imap_username: str = "",
    imap_password: str = "",
    imap_folder: str = "INBOX",
    use_ssl: bool = True,
) -> tuple[InboundMailbox, str]:
    """Create a mailbox; returns it and its webhook token, which is shown only now (we keep its sha256).

    Writes: InboundMailbox (IMAP password encrypted at rest).
    """
    token = secrets.token_urlsafe(32)
    mailbox = InboundMailbox.objects.create(
        installation=installation,
        webhook_token_hash=webhook_token_hash(token),
        imap_host=imap_host,
        imap_port=imap_port,
        imap_username=imap_username,
        imap_password_encrypted=token_encrypt(imap_password) if imap_password else "",
        imap_folder=imap_folder,
        use_ssl=use_ssl,
    )
    return mailbox, token


def inbound_mailbox_get_for_token(*, token: str) -> InboundMailbox | None:
    """The active mailbox (of an active installation) whose webhook token this is, else None."""
    if not token or len(token) > 256:
        return None
    digest = webhook_token_hash(token)
    mailbox = InboundMailbox.objects.active().select_related("installation").filter(webhook_token_hash=digest).first()
    # The lookup is by a hash, so its timing reveals nothing about the token; compare anyway, in constant time.
    if mailbox is None or not hmac.compare_digest(mailbox.webhook_token_hash, digest):
        return None
    return mailbox


def _lease_take(mailbox_id: int) -> bool:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.SUPPORT_IMAP_TIMEOUT_SECONDS * 4 + 60)
    free = Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now)
    return InboundMailbox.objects.pollable().filter(free, pk=mailbox_id).update(poll_lease_until=lease) == 1


def _poll_finish(mailbox_id: int, *, error: str = "") -> None:
    InboundMailbox.objects.filter(pk=mailbox_id).update(
        poll_lease_until=None, last_polled_at=timezone.now(), last_error=error[:2000]
    )


def inbound_mailbox_poll(*, mailbox_id: int, batch: int = POLL_BATCH) -> int:
    """Take in new mail from the mailbox's IMAP folder; returns how many messages were filed.

    Guard: an active mailbox with an IMAP host whose poll lease is free (overlapping runs return 0).
    External: one IMAP session, outside any transaction. Per message, one transaction files it
    (``email_inbound_receive``) and advances ``last_uid``, so a crash neither loses nor repeats mail.
    A mail we cannot file for good (bad sender, our own) is skipped past; a transient error stops the
    poll where it is. Errors are stored on the mailbox (``last_error``) and logged, not raised.
    """
    if not _lease_take(mailbox_id):
        return 0
    mailbox = InboundMailbox.objects.select_related("installation").get(pk=mailbox_id)
    filed = 0
    try:
        with imap_session(
            host=mailbox.imap_host,
            port=mailbox.imap_port,
            username=mailbox.imap_username,
            password=token_decrypt(mailbox.imap_password_encrypted) if mailbox.imap_password_encrypted else "",
            use_ssl=mailbox.use_ssl,
            timeout=settings.SUPPORT_IMAP_TIMEOUT_SECONDS,
        ) as conn:
            folder = imap_folder_select(conn, mailbox.imap_folder)
            first_poll = _uid_validity_check(mailbox, folder.uid_validity)
            # The first time, only unread mail: connecting a mailbox must not replay its whole history.
            uids = imap_uids_after(conn, mailbox.last_uid, unseen_only=first_poll)
            for uid in uids[:batch]:
                filed += _message_file(mailbox, uid, imap_message_fetch(conn, uid))
            if first_poll and len(uids) <= batch and folder.uid_next:
                InboundMailbox.objects.filter(pk=mailbox.pk, last_uid__lt=folder.uid_next - 1).update(
                    last_uid=folder.uid_next - 1
                )
    except SupportError as exc:
        logger.warning(
            "mailbox %s poll failed: %s", mailbox_id, exc, extra={"installation_id": mailbox.installation_id}
        )
        _poll_finish(mailbox_id, error=str(exc))
        return filed
    except Exception as exc:
        _poll_finish(mailbox_id, error=f"{type(exc).__name__}: {exc}")
        raise
    _poll_finish(mailbox_id)
    return filed


def _uid_validity_check(mailbox: InboundMailbox, uid_validity: int) -> bool:
    """True when we start over: never polled, or the server recreated the folder (new UIDVALIDITY)."""
    if mailbox.uid_validity == uid_validity and mailbox.last_uid:
        return False
    if mailbox.uid_validity != uid_validity:
        mailbox.uid_validity, mailbox.last_uid = uid_validity, 0
        mailbox.save(update_fields=["uid_validity", "last_uid"])
    return True


def _message_file(mailbox: InboundMailbox, uid: int, raw: bytes | None) -> int:
    """File one fetched message and move ``last_uid`` past it, in one transaction. Returns 1 if filed."""
    with transaction.atomic():
        try:
            filed = _file(mailbox, raw)
        except (PermanentError, NoOpError) as exc:
            logger.info("mailbox %s: skipped UID %s: %s", mailbox.pk, uid, exc)
            filed = 0
        InboundMailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
        mailbox.last_uid = max(mailbox.last_uid, uid)
    return filed


def _file(mailbox: InboundMailbox, raw: bytes | None) -> int:
    parsed = email_parse_rfc822(raw) if raw is not None else None  # None: expunged since the search
    # Out-of-office answers and bounces would reopen cases and start mail loops: skipped, like the webhook does.
    if parsed is None or parsed.auto_submitted:
        return 0
    email_inbound_receive(installation=mailbox.installation, **parsed.receive_kwargs())
    return 1
