"""Read the AI side of one installation: provider settings, model usage, autopilot rules, help articles,
and the latest triage and draft of a case. Every read is scoped by ``installation``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from saleor_support_plugin.ai.schemas import MONEY_INTENTS
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import (
    AutopilotRule,
    Case,
    CaseReason,
    Installation,
    KnowledgeArticle,
    LlmCall,
    LlmCallOutcome,
    LlmProvider,
    Message,
    MessageDirection,
    MessageTriage,
    ReplyDraft,
)
from saleor_support_plugin.services.knowledge import knowledge_search_for_shopper

DEFAULT_MIN_CONFIDENCE = 0.9
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def llm_provider_get(*, installation: Installation) -> LlmProvider | None:
    return LlmProvider.objects.filter(installation=installation).first()


@dataclass(frozen=True, slots=True)
class LlmMonthUsage:
    month_start: datetime
    month_end: datetime
    calls: int
    failed_calls: int
    tokens_in: int
    tokens_out: int
    estimated_cost: Decimal
    budget_tokens: int | None  # None: no provider configured

    @property
    def used_tokens(self) -> int:
        return self.tokens_in + self.tokens_out


def _month_bounds(month: str | None) -> tuple[datetime, datetime]:
    if not month:
        now = timezone.now().astimezone(UTC)
        year, number = now.year, now.month
    else:
        match = _MONTH.match(month.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise PermanentError(SupportErrorCode.INVALID, "month must look like 2025-01.", field="month")
        year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def llm_usage_for_month(*, installation: Installation, month: str | None = None) -> LlmMonthUsage:
    """Model calls of one calendar month (UTC, ``YYYY-MM``; default: this month) of this installation only."""
    start, end = _month_bounds(month)
    totals = LlmCall.objects.filter(installation=installation, created_at__gte=start, created_at__lt=end).aggregate(
        calls=Count("id"),
        failed=Count("id", filter=~Q(outcome=LlmCallOutcome.OK)),
        tokens_in=Sum("tokens_in"),
        tokens_out=Sum("tokens_out"),
        cost=Sum("estimated_cost"),
    )
    provider = llm_provider_get(installation=installation)
    return LlmMonthUsage(
        month_start=start,
        month_end=end,
        calls=totals["calls"] or 0,
        failed_calls=totals["failed"] or 0,
        tokens_in=totals["tokens_in"] or 0,
        tokens_out=totals["tokens_out"] or 0,
        estimated_cost=totals["cost"] or Decimal(0),
        budget_tokens=provider.monthly_token_budget if provider else None,
    )


@dataclass(frozen=True, slots=True)
class AutopilotSetting:
    intent: str
    is_enabled: bool
    min_confidence: float
    staff_only: bool  # a money intent: autopilot can never be switched on


def autopilot_rules_list(*, installation: Installation) -> list[AutopilotSetting]:
    """One entry per intent, in taxonomy order; intents without a rule are off (the default)."""
    rules = {r.intent: r for r in AutopilotRule.objects.filter(installation=installation)}
    result = []
    for intent in CaseReason.values:
        rule = rules.get(intent)
        result.append(
            AutopilotSetting(
                intent=intent,
                is_enabled=bool(rule and rule.is_enabled),
                min_confidence=rule.min_confidence if rule else DEFAULT_MIN_CONFIDENCE,
                staff_only=intent in MONEY_INTENTS,
            )
        )
    return result


def knowledge_article_list(
    *, installation: Installation, search: str = "", reason: str = "", language: str = "",
    published: bool | None = None,
) -> QuerySet:  # fmt: skip
    """Articles by title. ``reason``/``language`` also match articles meant for any reason/language."""
    qs = KnowledgeArticle.objects.filter(installation=installation)
    if reason:
        qs = qs.filter(Q(reason=reason) | Q(reason=""))
    if language:
        qs = qs.filter(Q(language__iexact=language) | Q(language__iexact=language.split("-")[0]) | Q(language=""))
    if published is not None:
        qs = qs.filter(is_published=published)
    if search.strip():
        qs = qs.filter(Q(title__icontains=search.strip()) | Q(body__icontains=search.strip()))
    return qs.order_by("title", "pk")


def knowledge_article_get(*, installation: Installation, article_id: int | None) -> KnowledgeArticle:
    """The article with this id in this installation, or NOT_FOUND."""
    qs = KnowledgeArticle.objects.filter(installation=installation, pk=article_id)
    article = qs.first() if article_id is not None else None
    if article is None:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Article not found.", field="id")
    return article


def _last_inbound_message_id(case: Case) -> int | None:
    return (
        Message.objects.filter(case_id=case.pk, direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def case_triage_latest(*, case: Case) -> MessageTriage | None:
    """The triage of the case's last inbound message (None until that message is triaged)."""
    message_id = _last_inbound_message_id(case)
    if message_id is None:
        return None
    return MessageTriage.objects.filter(installation_id=case.installation_id, message_id=message_id).first()


def case_draft_latest(*, case: Case) -> ReplyDraft | None:
    """The reply drafted for the case's last inbound message, whatever became of it (None until drafted)."""
    message_id = _last_inbound_message_id(case)
    if message_id is None:
        return None
    return ReplyDraft.objects.filter(installation_id=case.installation_id, message_id=message_id).first()


def reply_draft_get_for_staff(*, installation: Installation, draft_id: int | None) -> ReplyDraft:
    """The draft with this id in this installation, or NOT_FOUND."""
    draft = None
    if draft_id is not None:
        draft = ReplyDraft.objects.filter(installation=installation, pk=draft_id).first()
    if draft is None:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Draft not found.", field="draft_id")
    return draft


@dataclass(frozen=True, slots=True)
class HelpHit:
    article: KnowledgeArticle
    snippet: str
    score: float


def help_search(*, installation: Installation, query: str, language: str = "", limit: int = 5) -> list[HelpHit]:
    """Published articles answering a shopper's question, best first (BM25, ``services/knowledge.py``)."""
    if not (query or "").strip():
        return []
    hits = knowledge_search_for_shopper(installation=installation, query=query, language=language, limit=limit)
    rows = KnowledgeArticle.objects.filter(
        installation=installation, is_published=True, pk__in=[h.article_id for h in hits]
    ).in_bulk()
    return [HelpHit(rows[h.article_id], h.snippet, h.score) for h in hits if h.article_id in rows]
