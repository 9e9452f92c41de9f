"""Triage of every inbound shopper message, with a reply draft, and autopilot when it is allowed.

Flow (``message_triage``): the offline engine always runs first (≈1 ms; it is the fallback and the
cross-check). If the installation has an enabled model and budget left, one model call returns triage and
draft as structured output (one repair call if invalid). The model never sees personal data (redacted,
restored in the draft) and never decides money actions (safety post-check; autopilot excludes them).

Failure handling, so the case is always triaged and nothing is lost:
- refusal / invalid after repair / budget exhausted / bad key → offline result, final, reason recorded;
- 429, 5xx, timeout → an offline result is stored at once (``is_final=False``) and ``LlmUnavailableError``
  propagates so Celery retries; a later success upgrades the row in place, and the last attempt (or a
  crash, via the task's ``on_failure``) finalises it with the offline result.
Every model call is an ``LlmCall`` row, written as soon as the call returns (outside any transaction).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from saleor_support_plugin import events
from saleor_support_plugin.ai.client import ChatClient, LlmRejectedError, LlmUnavailableError
from saleor_support_plugin.ai.drafts import DraftText, draft_offline, missing_required
from saleor_support_plugin.ai.facts import OrderFacts, order_facts_from_snapshot
from saleor_support_plugin.ai.guardrails import draft_check
from saleor_support_plugin.ai.offline import ENGINE_NAME, triage_offline
from saleor_support_plugin.ai.pipeline import CallRecord, triage_draft_llm
from saleor_support_plugin.ai.prompting import PROMPT_VERSION, PromptInput, prompt_messages
from saleor_support_plugin.ai.redaction import pii_redact, pii_restore
from saleor_support_plugin.ai.retrieval import Doc
from saleor_support_plugin.ai.schemas import Triage
from saleor_support_plugin.ai.tokens import messages_token_estimate
from saleor_support_plugin.errors import SupportErrorCode
from saleor_support_plugin.locks import case_qs_select_for_update
from saleor_support_plugin.models import (
    Case,
    CaseReason,
    DraftStatus,
    LlmCall,
    LlmProvider,
    Message,
    MessageDirection,
    MessageTriage,
    OrderSnapshot,
    ReplyDraft,
    TriageEngine,
)
from saleor_support_plugin.models.cases import ACTIVE_STATUSES
from saleor_support_plugin.services import sla
from saleor_support_plugin.services.ai_settings import LlmUsage, chat_client_for, llm_usage_get
from saleor_support_plugin.services.autopilot import autopilot_apply
from saleor_support_plugin.services.knowledge import article_docs_list, knowledge_for_draft, macro_docs_list
from saleor_support_plugin.services.macros import macro_values

logger = logging.getLogger(__name__)


@dataclass
class _Context:
    message: Message
    case: Case
    text: str
    language_hint: str
    offline: Triage
    facts: OrderFacts
    variables: dict[str, str]
    macros: list[Doc]
    articles: list[Doc]


@dataclass
class _Result:
    triage: Triage
    engine: str
    engine_version: str
    draft: DraftText
    fallback_reason: str = ""
    budget: LlmUsage | None = None
    llm_error: tuple[str, str] | None = field(default=None)  # (outcome, message)


def message_triage_enqueue(*, message: Message) -> None:
    """Queue triage of a just-stored inbound message. Enqueues (on commit): message_triage_task."""
    from saleor_support_plugin.tasks import message_triage_task

    if message.direction == MessageDirection.INBOUND:
        message_triage_task.delay_on_commit(message.pk)


def _context(message: Message) -> _Context:
    case = message.case
    text = f"{message.subject}\n{message.body}".strip() if message.subject else message.body
    hint = case.language_code or (case.customer.language_code if case.customer_id else "")
    snapshot = None
    if case.order_saleor_id:
        snapshot = OrderSnapshot.objects.filter(
            installation_id=case.installation_id, saleor_id=case.order_saleor_id
        ).first()
    facts = order_facts_from_snapshot(snapshot)
    # The same values a staff preview of a macro gets (services/macros.py); drafts leave out the empty ones.
    values = macro_values(case=case, order=snapshot, author_name=message.author_name)
    variables = {name: value for name, value in values.items() if value}
    return _Context(
        message=message,
        case=case,
        text=text,
        language_hint=hint,
        offline=triage_offline(text, language_hint=hint),
        facts=facts,
        variables=variables,
        macros=macro_docs_list(installation=case.installation),
        articles=article_docs_list(installation=case.installation),
    )


def _offline_result(ctx: _Context, reason: str, **extra: object) -> _Result:
    draft = draft_offline(
        intent=ctx.offline.intent, language=ctx.offline.language, query=ctx.text, macros=ctx.macros,
        variables=ctx.variables,
    )  # fmt: skip
    return _Result(ctx.offline, TriageEngine.OFFLINE, ENGINE_NAME, draft, reason, **extra)


def _record_call(ctx: _Context, provider: LlmProvider, record: CallRecord) -> None:
    cost = record.tokens_in * provider.input_cost_per_million + record.tokens_out * provider.output_cost_per_million
    LlmCall.objects.create(
        installation_id=ctx.case.installation_id,
        case=ctx.case,
        message=ctx.message,
        purpose=record.purpose,
        provider_kind=provider.kind,
        model=record.model[:128],
        prompt_version=record.prompt_version,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        latency_ms=record.latency_ms,
        estimated_cost=(Decimal(cost) / Decimal(1_000_000)).quantize(Decimal("0.000001")),
        outcome=record.outcome,
        request_id=record.request_id[:128],
        error=record.error[:2000],
    )


def _llm_result(ctx: _Context, provider: LlmProvider, client_factory) -> _Result:
    redaction = pii_redact(ctx.text, known=ctx.facts.street_lines)
    knowledge = knowledge_for_draft(
        macros=ctx.macros, articles=ctx.articles, query=ctx.text, intent=ctx.offline.intent,
        language=ctx.offline.language,
    )  # fmt: skip
    messages = prompt_messages(PromptInput(redaction.text, ctx.facts.to_prompt(), knowledge, ctx.language_hint))
    usage = llm_usage_get(installation=ctx.case.installation, budget_tokens=provider.monthly_token_budget)
    if not usage.allows(messages_token_estimate(messages) + provider.max_output_tokens):
        return _offline_result(ctx, "budget", budget=usage)
    client: ChatClient = client_factory(provider)
    outcome = triage_draft_llm(client=client, messages=messages, on_call=partial(_record_call, ctx, provider))
    if outcome.answer is None:
        return _offline_result(ctx, outcome.failure)
    answer = outcome.answer
    allowed = {d.key for d in knowledge} | ({"order"} if ctx.facts.known else set())
    citations = tuple(c for c in dict.fromkeys(answer.citations) if c in allowed)
    draft = DraftText(
        pii_restore(answer.reply, redaction.values), citations, missing_required(answer.intent, ctx.variables)
    )
    return _Result(answer.triage(), TriageEngine.LLM, f"{client.model} / {PROMPT_VERSION}"[:160], draft)


def _message_get(message_id: int) -> Message | None:
    message = Message.objects.select_related("case__installation", "case__customer").filter(pk=message_id).first()
    if message is None or message.direction != MessageDirection.INBOUND:
        logger.info("triage skipped: message %s gone or not inbound", message_id, extra={"message_id": message_id})
        return None
    return message


def message_triage(
    *, message_id: int, client_factory=chat_client_for, final_attempt: bool = True
) -> MessageTriage | None:
    """Triage one inbound message and draft a reply; autopilot may send it.

    Must not run inside ``transaction.atomic`` (it may call the model over HTTP). Idempotent: a final
    triage is returned as is. Writes: LlmCall (per model call), MessageTriage, ReplyDraft, Case (reason,
    language, SLA when the reason becomes known), CaseEvents; via autopilot: Message, OutboundEmail.
    External: one model call (two with a repair). Raises LlmUnavailableError (retryable) unless
    ``final_attempt``.
    """
    message = _message_get(message_id)
    if message is None:
        return None
    existing = MessageTriage.objects.filter(message=message).first()
    if existing is not None and existing.is_final:
        return existing
    ctx = _context(message)
    provider = LlmProvider.objects.filter(installation_id=ctx.case.installation_id, is_enabled=True).first()
    if provider is None:
        return _store(ctx, _offline_result(ctx, ""), is_final=True)
    try:
        result = _llm_result(ctx, provider, client_factory)
    except LlmUnavailableError as exc:
        if not final_attempt:
            if existing is None:
                _store(ctx, _offline_result(ctx, "llm_retrying"), is_final=False)
            raise
        result = _offline_result(ctx, "llm_unavailable", llm_error=(exc.outcome, exc.message))
    except LlmRejectedError as exc:
        reason = "llm_auth" if exc.code == SupportErrorCode.LLM_AUTH_FAILED else "llm_rejected"
        result = _offline_result(ctx, reason, llm_error=(exc.outcome, exc.message))
    return _store(ctx, result, is_final=True)


def message_triage_fallback(*, message_id: int, reason: str) -> MessageTriage | None:
    """Finalise triage with the offline engine (the model retries ran out, or the task crashed).

    Writes: as ``message_triage``, without any model call.
    """
    message = _message_get(message_id)
    if message is None:
        return None
    existing = MessageTriage.objects.filter(message=message).first()
    if existing is not None and existing.is_final:
        return existing
    ctx = _context(message)
    return _store(ctx, _offline_result(ctx, reason[:32]), is_final=True)


def _case_learn(case: Case, triage: Triage) -> None:
    """Fill what the case did not know yet: its reason (and so its SLA policy) and its language."""
    changed: list[str] = []
    if case.reason == CaseReason.OTHER and not case.rule and triage.intent != CaseReason.OTHER:
        case.reason = triage.intent
        changed.append("reason")
        if case.status in ACTIVE_STATUSES:
            changed += sla.sla_case_recompute(case=case, at=timezone.now())
    if not case.language_code and triage.language != "und":
        case.language_code = triage.language[:16]
        changed.append("language_code")
    if changed:
        case.save(update_fields=sorted({*changed, "updated_at"}))


def _store(ctx: _Context, result: _Result, *, is_final: bool) -> MessageTriage:
    triage = result.triage
    # Model text is cleaned; a merchant's macro is only flagged (its words are theirs; autopilot still refuses).
    checked = draft_check(result.draft.body, language=triage.language, strip=result.engine == TriageEngine.LLM)
    with transaction.atomic():
        case = case_qs_select_for_update().select_related("installation").get(pk=ctx.case.pk)
        row, _ = MessageTriage.objects.update_or_create(
            message=ctx.message,
            defaults={
                "installation_id": case.installation_id, "case": case, "engine": result.engine,
                "engine_version": result.engine_version, "intent": triage.intent, "sentiment": triage.sentiment,
                "urgency": triage.urgency, "language": triage.language, "confidence": triage.confidence,
                "offline_intent": ctx.offline.intent, "offline_confidence": ctx.offline.confidence,
                "fallback_reason": result.fallback_reason, "is_final": is_final,
            },
        )  # fmt: skip
        draft = ReplyDraft.objects.filter(message=ctx.message).first()
        if draft is None or draft.status == DraftStatus.PROPOSED:
            draft, _ = ReplyDraft.objects.update_or_create(
                message=ctx.message,
                defaults={
                    "installation_id": case.installation_id, "case": case, "body": checked.body,
                    "engine": result.engine, "citations": list(result.draft.citations),
                    "missing_facts": list(result.draft.missing_facts), "flags": list(checked.flags),
                },
            )  # fmt: skip
        if result.budget is not None:
            events.event_llm_budget_exhausted(
                case=case, used_tokens=result.budget.used_tokens, budget_tokens=result.budget.budget_tokens
            )
        if result.llm_error is not None:
            events.event_llm_failed(
                case=case, message_id=ctx.message.pk, outcome=result.llm_error[0], error=result.llm_error[1]
            )
        events.event_case_triaged(
            case=case, message_id=ctx.message.pk, intent=triage.intent, sentiment=triage.sentiment,
            urgency=triage.urgency, language=triage.language, confidence=triage.confidence, engine=result.engine,
            fallback_reason=result.fallback_reason,
        )  # fmt: skip
        events.event_reply_drafted(
            case=case, draft_id=draft.pk, message_id=ctx.message.pk, engine=draft.engine,
            citations=list(draft.citations), flags=list(draft.flags),
        )  # fmt: skip
        if is_final:
            _case_learn(case, triage)
            if draft.status == DraftStatus.PROPOSED:
                autopilot_apply(case=case, message=ctx.message, triage=row, draft=draft)
    return row
