"""Staff: the AI features — model provider settings and usage, autopilot rules, help articles, reply drafts.

Permissions: configuration that changes what the app does by itself or where shopper text is sent
(``llmProviderUpdate``, ``autopilotRuleSet``) needs the user's MANAGE_APPS, as official Saleor apps gate
their configuration screens (an app cannot hold MANAGE_APPS, but a staff user can); everything else needs
MANAGE_ORDERS like working cases. Resolvers only translate; services and selectors own the rules.
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import MANAGE_ORDERS, Info
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list, graphql_error
from saleor_support_plugin.graphql.ids import global_id_decode
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.graphql.types.ai import (
    AutopilotRuleType,
    KnowledgeArticleType,
    LlmProviderKindEnum,
    LlmProviderType,
    LlmUsageType,
    ReplyDraftType,
    StructuredOutputEnum,
)
from saleor_support_plugin.graphql.types.cases import CaseDetailType, MessageType
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum, CaseStatusEnum
from saleor_support_plugin.models import Case, KnowledgeArticle
from saleor_support_plugin.selectors import ai as selectors
from saleor_support_plugin.services.ai_settings import autopilot_rule_set, llm_provider_update
from saleor_support_plugin.services.drafts import reply_draft_discard, reply_draft_use
from saleor_support_plugin.services.knowledge import (
    knowledge_article_create,
    knowledge_article_delete,
    knowledge_article_update,
)

MANAGE_APPS = "MANAGE_APPS"
MAX_ARTICLES = 500


def manage_orders() -> list:
    """A fresh extension list per field (a PermissionExtension keeps per-field state)."""
    return staff_requires(MANAGE_ORDERS)


def manage_apps() -> list:
    return staff_requires(MANAGE_APPS)


# --- provider settings -----------------------------------------------------------------------------------


@strawberry.input(name="LlmProviderInput", description="Fields to set; omitted fields keep their current value.")
class LlmProviderInput:
    kind: LlmProviderKindEnum | None = None  # type: ignore[valid-type]
    base_url: str | None = strawberry.field(default=None, description="Empty string: the vendor's default.")
    api_key: str | None = strawberry.field(
        default=None, description="Stored encrypted, never returned. Omit to keep the stored key; empty removes it."
    )
    api_version: str | None = None
    model: str | None = None
    structured_output: StructuredOutputEnum | None = None  # type: ignore[valid-type]
    is_enabled: bool | None = None
    timeout_seconds: float | None = None
    max_output_tokens: int | None = None
    monthly_token_budget: int | None = None
    input_cost_per_million: Decimal | None = None
    output_cost_per_million: Decimal | None = None


@strawberry.type(name="LlmProviderUpdate")
class LlmProviderUpdatePayload:
    provider: LlmProviderType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


# --- autopilot -------------------------------------------------------------------------------------------


@strawberry.type(name="AutopilotRuleSet")
class AutopilotRuleSetPayload:
    rule: AutopilotRuleType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


# --- knowledge base --------------------------------------------------------------------------------------


@strawberry.input(name="KnowledgeArticleFilterInput")
class KnowledgeArticleFilterInput:
    reason: CaseReasonEnum | None = None  # type: ignore[valid-type]
    language: str | None = None
    is_published: bool | None = None
    search: str | None = None


@strawberry.input(name="KnowledgeArticleInput", description="Fields to set; omitted fields stay as they are.")
class KnowledgeArticleInput:
    title: str | None = None
    body: str | None = None
    language: str | None = None
    reason: CaseReasonEnum | None = strawberry.field(default=None, description="Omit to keep; see clearReason.")  # type: ignore[valid-type]
    clear_reason: bool = strawberry.field(default=False, description="Make the article apply to any reason.")
    is_published: bool | None = None

    def reason_value(self) -> str | None:
        return "" if self.clear_reason else (self.reason.value if self.reason else None)


@strawberry.type(name="KnowledgeArticleCreate")
class KnowledgeArticleCreatePayload:
    article: KnowledgeArticleType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="KnowledgeArticleUpdate")
class KnowledgeArticleUpdatePayload:
    article: KnowledgeArticleType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="KnowledgeArticleDelete")
class KnowledgeArticleDeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


def _article(info: Info, article_id: str) -> KnowledgeArticle:
    staff = info.context.get_staff()
    pk = global_id_decode(article_id, type_name="KnowledgeArticle")
    return selectors.knowledge_article_get(installation=staff.installation, article_id=pk)


# --- drafts ----------------------------------------------------------------------------------------------


@strawberry.type(name="ReplyDraftUse")
class ReplyDraftUsePayload:
    draft: ReplyDraftType | None = None
    case: CaseDetailType | None = None
    message: MessageType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="ReplyDraftDiscard")
class ReplyDraftDiscardPayload:
    draft: ReplyDraftType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


# --- root fields -----------------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(
        extensions=manage_orders(), description="The model settings (null: none, triage runs offline). No API key."
    )
    def llm_provider(self, info: Info) -> LlmProviderType | None:
        row = selectors.llm_provider_get(installation=info.context.get_staff().installation)
        return LlmProviderType.of(row) if row else None

    @strawberry.field(
        extensions=manage_orders(),
        description="Model tokens and estimated cost of a month (YYYY-MM, UTC; default now).",
    )
    def llm_usage(self, info: Info, month: str | None = None) -> LlmUsageType:
        try:
            usage = selectors.llm_usage_for_month(installation=info.context.get_staff().installation, month=month)
        except SupportError as exc:
            raise graphql_error(exc) from exc
        return LlmUsageType.of(usage)

    @strawberry.field(extensions=manage_orders(), description="Autopilot per intent (every intent; off by default).")
    def autopilot_rules(self, info: Info) -> list[AutopilotRuleType]:
        rules = selectors.autopilot_rules_list(installation=info.context.get_staff().installation)
        return [AutopilotRuleType.of(rule) for rule in rules]

    @strawberry.field(extensions=manage_orders(), description="Help articles by title.")
    def knowledge_articles(
        self,
        info: Info,
        filter: KnowledgeArticleFilterInput | None = None,  # noqa: A002
    ) -> list[KnowledgeArticleType]:
        f = filter or KnowledgeArticleFilterInput()
        return selectors.knowledge_article_list(
            installation=info.context.get_staff().installation,
            search=f.search or "",
            reason=f.reason.value if f.reason else "",
            language=f.language or "",
            published=f.is_published,
        )[:MAX_ARTICLES]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=manage_apps(),
        description="Set the model provider (needs MANAGE_APPS). The API key is encrypted at rest, never returned.",
    )
    def llm_provider_update(self, info: Info, input: LlmProviderInput) -> LlmProviderUpdatePayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            row = llm_provider_update(
                installation=staff.installation,
                api_key=input.api_key,
                kind=input.kind.value if input.kind else None,
                base_url=input.base_url,
                api_version=input.api_version,
                model=input.model,
                structured_output=input.structured_output.value if input.structured_output else None,
                is_enabled=input.is_enabled,
                timeout_seconds=input.timeout_seconds,
                max_output_tokens=input.max_output_tokens,
                monthly_token_budget=input.monthly_token_budget,
                input_cost_per_million=input.input_cost_per_million,
                output_cost_per_million=input.output_cost_per_million,
            )
        except SupportError as exc:
            return LlmProviderUpdatePayload(errors=error_list(exc))
        return LlmProviderUpdatePayload(provider=LlmProviderType.of(row))

    @strawberry.mutation(
        extensions=manage_apps(),
        description="Switch autopilot on or off for one intent (needs MANAGE_APPS). Money intents: "
        "AUTOPILOT_MONEY_INTENT.",
    )
    def autopilot_rule_set(
        self,
        info: Info,
        intent: CaseReasonEnum,  # type: ignore[valid-type]
        is_enabled: bool,
        min_confidence: float = 0.9,
    ) -> AutopilotRuleSetPayload:
        staff = info.context.get_staff()
        try:
            rule = autopilot_rule_set(
                installation=staff.installation, intent=intent.value, is_enabled=is_enabled,
                min_confidence=min_confidence,
            )  # fmt: skip
        except SupportError as exc:
            return AutopilotRuleSetPayload(errors=error_list(exc))
        return AutopilotRuleSetPayload(rule=AutopilotRuleType.of(rule))

    @strawberry.mutation(extensions=manage_orders(), description="Add a help article (title and body required).")
    def knowledge_article_create(self, info: Info, input: KnowledgeArticleInput) -> KnowledgeArticleCreatePayload:  # noqa: A002
        try:
            article = knowledge_article_create(
                installation=info.context.get_staff().installation,
                title=input.title or "",
                body=input.body or "",
                language=input.language or "",
                reason=input.reason_value() or "",
                is_published=True if input.is_published is None else input.is_published,
            )
        except SupportError as exc:
            return KnowledgeArticleCreatePayload(errors=error_list(exc))
        return KnowledgeArticleCreatePayload(article=article)

    @strawberry.mutation(extensions=manage_orders(), description="Change a help article.")
    def knowledge_article_update(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002
        input: KnowledgeArticleInput,  # noqa: A002
    ) -> KnowledgeArticleUpdatePayload:
        try:
            article = knowledge_article_update(
                article=_article(info, id),
                title=input.title,
                body=input.body,
                language=input.language,
                reason=input.reason_value(),
                is_published=input.is_published,
            )
        except SupportError as exc:
            return KnowledgeArticleUpdatePayload(errors=error_list(exc))
        return KnowledgeArticleUpdatePayload(article=article)

    @strawberry.mutation(extensions=manage_orders(), description="Delete a help article.")
    def knowledge_article_delete(self, info: Info, id: strawberry.ID) -> KnowledgeArticleDeletePayload:  # noqa: A002
        try:
            knowledge_article_delete(article=_article(info, id))
        except SupportError as exc:
            return KnowledgeArticleDeletePayload(errors=error_list(exc))
        return KnowledgeArticleDeletePayload(deleted_id=id)

    @strawberry.mutation(
        extensions=manage_orders(),
        description="Send the case's reply draft (or your edit of it) to the customer, and mark it used.",
    )
    def reply_draft_use(
        self,
        info: Info,
        draft_id: strawberry.ID,
        edited_body: str | None = None,
        status_after: CaseStatusEnum | None = None,  # type: ignore[valid-type]
    ) -> ReplyDraftUsePayload:
        staff = info.context.get_staff()
        try:
            draft = selectors.reply_draft_get_for_staff(
                installation=staff.installation, draft_id=global_id_decode(draft_id, type_name="ReplyDraft")
            )
            draft, message = reply_draft_use(
                draft=draft,
                actor=staff.actor,
                edited_body=edited_body,
                status_after=status_after.value if status_after else None,
            )
        except SupportError as exc:
            return ReplyDraftUsePayload(errors=error_list(exc))
        case = Case.objects.select_related("customer").get(pk=draft.case_id)
        return ReplyDraftUsePayload(draft=ReplyDraftType.of(draft), case=case, message=message)

    @strawberry.mutation(extensions=manage_orders(), description="Set the case's reply draft aside without sending.")
    def reply_draft_discard(self, info: Info, draft_id: strawberry.ID) -> ReplyDraftDiscardPayload:
        staff = info.context.get_staff()
        try:
            draft = selectors.reply_draft_get_for_staff(
                installation=staff.installation, draft_id=global_id_decode(draft_id, type_name="ReplyDraft")
            )
            draft = reply_draft_discard(draft=draft)
        except SupportError as exc:
            return ReplyDraftDiscardPayload(errors=error_list(exc))
        return ReplyDraftDiscardPayload(draft=ReplyDraftType.of(draft))
