"""Rule-based sentiment (−2..+2) and urgency (low / normal / high) from cue phrases and the intent.

Cue phrases live in ``data/lexicons/signals.json``. The rule is simple on purpose: staff read the
numbers as "how upset" and "how soon", and a rule whose reason can be shown beats a score nobody can explain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from saleor_support_plugin.ai.offline.text import cue_hits, normalize

CALM_INTENTS = frozenset(
    {"feedback", "product_question", "policy_question", "delivery_options", "payment_methods", "other", "invoice"}
)
UPSET_INTENTS = frozenset({"complaint", "delivery_delay", "damaged_or_wrong_item", "payment_issue"})
_SHOUTING = re.compile(r"\b[A-Z]{4,}\b")


@dataclass(frozen=True, slots=True)
class Signals:
    sentiment: int
    urgency: str


def _sentiment(raw: str, hits: dict[str, int], intent: str) -> int:
    score = hits.get("positive", 0) - hits.get("negative", 0) - 2 * hits.get("very_negative", 0)
    if raw.count("!") >= 3 or len(_SHOUTING.findall(raw)) >= 2:
        score -= 1
    if intent == "complaint":
        score = min(score, -1)
    elif intent in UPSET_INTENTS:
        score = min(score, 0)
    elif intent == "feedback" and hits.get("negative", 0) == 0:
        score = max(score, 1)
    return max(-2, min(2, score))


def signals_detect(raw: str, *, intent: str) -> Signals:
    hits = cue_hits(normalize(raw), "signals.json")
    sentiment = _sentiment(raw, hits, intent)
    if hits.get("urgent", 0) or hits.get("very_negative", 0) or sentiment <= -2:
        urgency = "high"
    elif intent in CALM_INTENTS:
        urgency = "low"
    else:
        urgency = "normal"
    return Signals(sentiment, urgency)
