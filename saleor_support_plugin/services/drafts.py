"""What staff do with a reply draft: send it (as written or edited) through ``case_reply``, or discard it.

Only a PROPOSED draft can be used or discarded: one that autopilot sent, staff already used or someone
discarded is INVALID_STATUS, so two agents clicking "use" at once send one reply, not two.
"""

from __future__ import annotations

from django.db import transaction

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.events import Actor
from saleor_support_plugin.locks import case_qs_select_for_update
from saleor_support_plugin.models import DraftStatus, Message, ReplyDraft


def _locked_proposed(draft: ReplyDraft) -> ReplyDraft:
    # Case row first, then the draft: the same order as triage (services/triage.py _store), so no deadlock.
    case_qs_select_for_update().get(pk=draft.case_id)
    draft = ReplyDraft.objects.select_for_update().select_related("case").get(pk=draft.pk)
    if draft.status != DraftStatus.PROPOSED:
        raise PermanentError(
            SupportErrorCode.INVALID_STATUS, f"The draft was already {draft.status}.", field="draft_id"
        )
    return draft


def reply_draft_use(
    *, draft: ReplyDraft, actor: Actor, edited_body: str | None = None, status_after: str | None = None
) -> tuple[ReplyDraft, Message]:
    """Send the draft (or the staff's edit of it) to the shopper and mark it used.

    Writes: ReplyDraft, and via case_reply: Message, Case, CaseEvent(s), OutboundEmail (after commit).
    """
    from saleor_support_plugin.services.cases import case_reply

    body = draft.body if edited_body is None else edited_body
    if not body.strip():
        raise PermanentError(SupportErrorCode.REQUIRED, "The reply is empty.", field="edited_body")
    with transaction.atomic():
        draft = _locked_proposed(draft)
        message = case_reply(case=draft.case, body=body, actor=actor, status_after=status_after)
        draft.status, draft.sent_message = DraftStatus.USED, message
        draft.save(update_fields=["status", "sent_message", "updated_at"])
    return draft, message


def reply_draft_discard(*, draft: ReplyDraft) -> ReplyDraft:
    """Set a draft aside without sending it. Writes: ReplyDraft."""
    with transaction.atomic():
        draft = _locked_proposed(draft)
        draft.status = DraftStatus.DISCARDED
        draft.save(update_fields=["status", "updated_at"])
    return draft
