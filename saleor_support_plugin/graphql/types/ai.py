"""Staff-facing AI types: model provider settings (never the key), usage, autopilot rules, help articles,
and the triage and reply draft shown on a case."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
import strawberry_django
from strawberry import Parent

from saleor_support_plugin import models as m
from saleor_support_plugin.ai.schemas import MONEY_INTENTS
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum, _mirror
from saleor_support_plugin.models import DraftStatus, LlmProviderKind, StructuredOutput, TriageEngine
from saleor_support_plugin.selectors.ai import AutopilotSetting, LlmMonthUsage
from saleor_support_plugin.services.ai_settings import llm_provider_key_hint

LlmProviderKindEnum = _mirror(LlmProviderKind, "LlmProviderKind", "Which API the model speaks.")
StructuredOutputEnum = _mirror(StructuredOutput, "LlmStructuredOutput", "How the model is asked for JSON.")
TriageEngineEnum = _mirror(TriageEngine, "TriageEngine", "What produced a triage or draft.")
DraftStatusEnum = _mirror(DraftStatus, "ReplyDraftStatus", "What became of a reply draft.")


@strawberry.type(name="LlmProvider", description="The installation's model settings. The API key is never returned.")
class LlmProviderType:
    kind: LlmProviderKindEnum  # type: ignore[valid-type]
    base_url: str = strawberry.field(description="Empty: the vendor's default endpoint.")
    has_api_key: bool
    api_key_last4: str | None = strawberry.field(description="Last 4 characters of the stored key (keys ≥ 12 long).")
    api_version: str = strawberry.field(description="Azure only.")
    model: str = strawberry.field(description="Model name (Azure: the deployment).")
    structured_output: StructuredOutputEnum  # type: ignore[valid-type]
    is_enabled: bool
    timeout_seconds: float
    max_output_tokens: int
    monthly_token_budget: int
    input_cost_per_million: Decimal
    output_cost_per_million: Decimal
    updated_at: datetime

    @classmethod
    def of(cls, row: m.LlmProvider) -> LlmProviderType:
        return cls(
            kind=row.kind,
            base_url=row.base_url,
            has_api_key=bool(row.api_key_encrypted),
            api_key_last4=llm_provider_key_hint(row),
            api_version=row.api_version,
            model=row.model,
            structured_output=row.structured_output,
            is_enabled=row.is_enabled,
            timeout_seconds=row.timeout_seconds,
            max_output_tokens=row.max_output_tokens,
            monthly_token_budget=row.monthly_token_budget,
            input_cost_per_million=row.input_cost_per_million,
            output_cost_per_million=row.output_cost_per_million,
            updated_at=row.updated_at,
        )


@strawberry.type(name="LlmUsage", description="Model calls of one calendar month (UTC), this installation only.")
class LlmUsageType:
    month_start: datetime
    month_end: datetime
    calls: int
    failed_calls: int
    tokens_in: int
    tokens_out: int
    used_tokens: int
    budget_tokens: int | None = strawberry.field(description="The monthly token budget; null without a provider.")
    estimated_cost: Decimal = strawberry.field(description="From the provider's costs per million tokens.")

    @classmethod
    def of(cls, usage: LlmMonthUsage) -> LlmUsageType:
        return cls(
            month_start=usage.month_start,
            month_end=usage.month_end,
            calls=usage.calls,
            failed_calls=usage.failed_calls,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            used_tokens=usage.used_tokens,
            budget_tokens=usage.budget_tokens,
            estimated_cost=usage.estimated_cost,
        )


@strawberry.type(name="AutopilotRule", description="Whether drafts of one intent may be sent without a person.")
class AutopilotRuleType:
    intent: CaseReasonEnum  # type: ignore[valid-type]
    is_enabled: bool
    min_confidence: float
    staff_only: bool = strawberry.field(description="A money intent: autopilot can never be switched on.")

    @classmethod
    def of(cls, setting: AutopilotSetting | m.AutopilotRule) -> AutopilotRuleType:
        return cls(
            intent=setting.intent,
            is_enabled=setting.is_enabled,
            min_confidence=setting.min_confidence,
            staff_only=setting.intent in MONEY_INTENTS,
        )


@strawberry_django.type(m.KnowledgeArticle, name="KnowledgeArticle", description="A merchant's help article.")
class KnowledgeArticleType:
    title: str
    body: str
    language: str = strawberry_django.field(description="BCP-47 tag; empty means any language.")
    is_published: bool = strawberry_django.field(description="Published articles answer shoppers' searches.")
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.KnowledgeArticle]) -> strawberry.ID:
        return strawberry.ID(global_id("KnowledgeArticle", root.pk))

    @strawberry_django.field(only=["reason"], description="The case reason it answers; null means any.")
    def reason(self, root: Parent[m.KnowledgeArticle]) -> CaseReasonEnum | None:  # type: ignore[valid-type]
        return root.reason or None


@strawberry.type(name="MessageTriage", description="Intent, sentiment, urgency and language of an inbound message.")
class MessageTriageType:
    message_id: strawberry.ID
    intent: CaseReasonEnum  # type: ignore[valid-type]
    sentiment: int = strawberry.field(description="−2 (furious) … +2 (delighted).")
    urgency: str = strawberry.field(description="low, normal or high.")
    language: str = strawberry.field(description="BCP-47; 'und' when unknown.")
    confidence: float
    engine: TriageEngineEnum  # type: ignore[valid-type]
    engine_version: str
    offline_intent: CaseReasonEnum  # type: ignore[valid-type]
    offline_confidence: float
    fallback_reason: str = strawberry.field(description="Why the offline engine answered although a model is set.")
    is_final: bool = strawberry.field(description="False while a model retry may still upgrade it.")
    created_at: datetime

    @classmethod
    def of(cls, row: m.MessageTriage) -> MessageTriageType:
        return cls(
            message_id=strawberry.ID(global_id("Message", row.message_id)),
            intent=row.intent,
            sentiment=row.sentiment,
            urgency=row.urgency,
            language=row.language,
            confidence=row.confidence,
            engine=row.engine,
            engine_version=row.engine_version,
            offline_intent=row.offline_intent,
            offline_confidence=row.offline_confidence,
            fallback_reason=row.fallback_reason,
            is_final=row.is_final,
            created_at=row.created_at,
        )


@strawberry.type(name="ReplyDraft", description="The suggested answer to an inbound message.")
class ReplyDraftType:
    id: strawberry.ID
    message_id: strawberry.ID = strawberry.field(description="The inbound message it answers.")
    body: str
    engine: TriageEngineEnum  # type: ignore[valid-type]
    citations: list[str] = strawberry.field(description='What it is grounded in: "macro:12", "article:3", "order".')
    missing_facts: list[str] = strawberry.field(description="Facts it needs that the order lacks.")
    flags: list[str] = strawberry.field(description="Safety check findings, e.g. money_promise_removed.")
    status: DraftStatusEnum  # type: ignore[valid-type]
    autopilot_decision: str = strawberry.field(description="sent, handoff, off, or empty.")
    autopilot_reason: str
    sent_message_id: strawberry.ID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: m.ReplyDraft) -> ReplyDraftType:
        return cls(
            id=strawberry.ID(global_id("ReplyDraft", row.pk)),
            message_id=strawberry.ID(global_id("Message", row.message_id)),
            body=row.body,
            engine=row.engine,
            citations=[str(c) for c in row.citations or []],
            missing_facts=[str(c) for c in row.missing_facts or []],
            flags=[str(c) for c in row.flags or []],
            status=row.status,
            autopilot_decision=row.autopilot_decision,
            autopilot_reason=row.autopilot_reason,
            sent_message_id=strawberry.ID(global_id("Message", row.sent_message_id)) if row.sent_message_id else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
