"""Shopper: search the shop's published help articles before opening a case (self-service).

Any authenticated shopper (customer token, or a guest with order proof) may search; results are the
published articles of the caller's shop only. Macros are staff's saved replies and are never shown here.
"""

from __future__ import annotations

import strawberry

from saleor_support_plugin.graphql.context import Info
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.graphql.permissions import shopper_required
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum
from saleor_support_plugin.selectors.ai import HelpHit, help_search

MAX_QUERY = 500


@strawberry.type(name="HelpArticle", description="A help article of the shop answering your question.")
class HelpArticleType:
    id: strawberry.ID
    title: str
    body: str
    snippet: str = strawberry.field(description="The start of the article (up to 300 characters).")
    language: str
    reason: CaseReasonEnum | None  # type: ignore[valid-type]
    score: float = strawberry.field(description="Relevance (higher is better; comparable within one search).")

    @classmethod
    def of(cls, hit: HelpHit) -> HelpArticleType:
        article = hit.article
        return cls(
            id=strawberry.ID(global_id("KnowledgeArticle", article.pk)),
            title=article.title,
            body=article.body,
            snippet=hit.snippet,
            language=article.language,
            reason=article.reason or None,
            score=round(hit.score, 4),
        )


@strawberry.type
class Query:
    @strawberry.field(
        extensions=shopper_required(),
        description="Published help articles answering `query`, best first (try this before opening a case).",
    )
    def help_search(self, info: Info, query: str, language: str | None = None, first: int = 5) -> list[HelpArticleType]:
        shopper = info.context.get_shopper()
        hits = help_search(
            installation=shopper.installation, query=query[:MAX_QUERY], language=language or "", limit=first
        )
        return [HelpArticleType.of(hit) for hit in hits]
