"""Help articles (their upkeep), retrieval over articles and macros for drafts, and shopper self-service search.

Macro upkeep lives in ``services/macros.py``. All tenant-scoped through ``installation``. Retrieval is BM25
over the installation's rows, computed per request: merchants keep tens to a few hundred of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from saleor_support_plugin.ai.retrieval import Doc, bm25_rank
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import CaseReason, Installation, KnowledgeArticle, Macro

MAX_BODY = 20_000
MAX_ROWS = 500
_LANGUAGE = re.compile(r"^(?:[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)?$")


def _required(value: str, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise PermanentError(SupportErrorCode.REQUIRED, f"{field} is required.", field=field)
    if len(text) > limit:
        raise PermanentError(SupportErrorCode.INVALID, f"{field} is longer than {limit} characters.", field=field)
    return text


def _reason(value: str) -> str:
    if value and value not in CaseReason.values:
        raise PermanentError(SupportErrorCode.INVALID, f"Unknown reason {value!r}.", field="reason")
    return value


def _language(value: str) -> str:
    if not _LANGUAGE.match(value or ""):
        raise PermanentError(SupportErrorCode.INVALID, "Language must be a BCP-47 tag such as 'en' or 'pt-BR'.",
                             field="language")  # fmt: skip
    return value


def knowledge_article_create(
    *,
    installation: Installation,
    title: str,
    body: str,
    language: str = "",
    reason: str = "",
    is_published: bool = True,
) -> KnowledgeArticle:
    """Add a help article. Writes: KnowledgeArticle."""
    return KnowledgeArticle.objects.create(
        installation=installation,
        title=_required(title, "title", 255),
        body=_required(body, "body", MAX_BODY),
        language=_language(language),
        reason=_reason(reason),
        is_published=is_published,
    )


def knowledge_article_update(
    *, article: KnowledgeArticle, title: str | None = None, body: str | None = None, language: str | None = None,
    reason: str | None = None, is_published: bool | None = None,
) -> KnowledgeArticle:  # fmt: skip
    """Change the given fields of an article (``None`` keeps a field). Writes: KnowledgeArticle."""
    changes = {
        "title": None if title is None else _required(title, "title", 255),
        "body": None if body is None else _required(body, "body", MAX_BODY),
        "language": None if language is None else _language(language),
        "reason": None if reason is None else _reason(reason),
        "is_published": is_published,
    }
    fields = [name for name, value in changes.items() if value is not None]
    for name in fields:
        setattr(article, name, changes[name])
    article.save(update_fields=[*fields, "updated_at"])
    return article


def knowledge_article_delete(*, article: KnowledgeArticle) -> None:
    """Remove an article (drafts that cited it keep their text). Writes: KnowledgeArticle."""
    article.delete()


def macro_docs_list(*, installation: Installation) -> list[Doc]:
    rows = Macro.objects.filter(installation=installation, is_active=True).order_by("pk")[:MAX_ROWS]
    return [Doc(f"macro:{m.pk}", m.name, m.body, m.language, m.reason) for m in rows]


def article_docs_list(*, installation: Installation) -> list[Doc]:
    rows = KnowledgeArticle.objects.filter(installation=installation, is_published=True).order_by("pk")[:MAX_ROWS]
    return [Doc(f"article:{a.pk}", a.title, a.body, a.language, a.reason) for a in rows]


def _language_ok(doc: Doc, language: str) -> bool:
    return not doc.language or not language or doc.language.split("-")[0] == language.split("-")[0]


def knowledge_for_draft(
    *, macros: list[Doc], articles: list[Doc], query: str, intent: str, language: str, limit: int = 3
) -> tuple[Doc, ...]:
    """The few macros and articles most worth showing the model: same intent first, then by relevance."""
    pool = [d for d in [*macros, *articles] if _language_ok(d, language) and d.reason in (intent, "")]
    relevance = dict((d.key, s) for d, s in bm25_rank(query, pool, limit=len(pool)))
    ranked = sorted(pool, key=lambda d: (d.reason == intent and d.key.startswith("macro:"), relevance.get(d.key, 0)),
                    reverse=True)  # fmt: skip
    return tuple(d for d in ranked if d.reason == intent or relevance.get(d.key, 0) > 0)[:limit]


@dataclass(frozen=True, slots=True)
class KnowledgeHit:
    article_id: int
    title: str
    snippet: str
    score: float


def knowledge_search_for_shopper(
    *, installation: Installation, query: str, language: str = "", limit: int = 5
) -> list[KnowledgeHit]:
    """Published articles answering ``query`` (self-service before a case is opened). Reads only."""
    docs = [d for d in article_docs_list(installation=installation) if _language_ok(d, language)]
    hits = bm25_rank((query or "")[:500], docs, limit=max(1, min(limit, 20)))
    return [KnowledgeHit(int(d.key.split(":")[1]), d.title, d.body[:300], score) for d, score in hits]
