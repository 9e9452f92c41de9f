"""BM25 over a merchant's macros and help articles (tens to hundreds of short texts: no index needed).

Tokens are words for languages written with spaces and character bigrams for Thai and Chinese, all after
the same normalisation the classifier uses, so "reembolso" finds "Reembolsos" and "退款" finds "退款政策".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from saleor_support_plugin.ai.offline.text import normalize

_TOKEN = re.compile(r"[\u0e00-\u0e7f\u3400-\u4dbf\u4e00-\u9fff]+|[^\W_]+")
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3400-\u4dbf\u4e00-\u9fff]")
K1 = 1.2
B = 0.75


@dataclass(frozen=True, slots=True)
class Doc:
    key: str  # "macro:12" | "article:3"
    title: str
    body: str
    language: str = ""
    reason: str = ""


def search_tokens(text: str) -> list[str]:
    out: list[str] = []
    for run in _TOKEN.findall(normalize(text)):
        if _UNSPACED.match(run):
            out += [run[i : i + 2] for i in range(max(len(run) - 1, 1))]
        elif len(run) > 1:
            out.append(run)
    return out


def bm25_rank(query: str, docs: list[Doc], *, limit: int = 5) -> list[tuple[Doc, float]]:
    """Docs with a positive score for ``query``, best first."""
    terms = set(search_tokens(query))
    if not terms or not docs:
        return []
    bags = [Counter(search_tokens(f"{d.title} {d.title} {d.body}")) for d in docs]
    lengths = [sum(bag.values()) or 1 for bag in bags]
    average = sum(lengths) / len(lengths)
    frequency = Counter(t for bag in bags for t in terms if t in bag)
    scored: list[tuple[Doc, float]] = []
    for doc, bag, length in zip(docs, bags, lengths, strict=True):
        score = 0.0
        for term in terms:
            tf = bag.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (len(docs) - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        if score > 0:
            scored.append((doc, round(score, 4)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]
