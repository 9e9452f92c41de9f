"""Safety post-check of every draft: no promise of a refund, cancellation or other money action.

The prompt already forbids such promises, but a prompt is not a control: a model can be talked into one
by the very message it answers. So every draft (model or macro) passes here. A sentence that commits us to
a money action is removed and replaced, once, by a hand-off sentence in the draft's language, and the
draft is flagged so autopilot will not send it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from saleor_support_plugin.ai.offline.text import cue_hits, normalize

PHRASES = Path(__file__).resolve().parent / "data" / "drafts" / "phrases.json"
FLAG_MONEY_PROMISE = "money_promise_removed"
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*\s*|\n")


@dataclass(frozen=True, slots=True)
class CheckedDraft:
    body: str
    flags: tuple[str, ...]


@cache
def phrases() -> dict[str, dict[str, str]]:
    data = json.loads(PHRASES.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def phrase(kind: str, language: str) -> str:
    table = phrases()[kind]
    primary = (language or "en").split("-")[0].lower()
    return table.get(primary) or table["en"]


def is_money_promise(sentence: str) -> bool:
    hits = cue_hits(normalize(sentence), "money_promises.json")
    if hits.get("explicit"):
        return True
    return bool(hits.get("action") and hits.get("commitment") and not hits.get("safe"))


def draft_check(body: str, *, language: str, strip: bool = True) -> CheckedDraft:
    """Remove money promises from ``body``; returns the cleaned text and what was found.

    ``strip=False`` only flags: for a merchant's own macro text, whose words are theirs to keep in front of
    staff (the flag still keeps autopilot away from it).
    """
    kept: list[str] = []
    removed = False
    for sentence in _SENTENCE.findall(body or ""):
        if sentence.strip() and is_money_promise(sentence):
            removed = True
            continue
        kept.append(sentence)
    if not removed:
        return CheckedDraft(body, ())
    if not strip:
        return CheckedDraft(body, (FLAG_MONEY_PROMISE,))
    text = "".join(kept).strip()
    handoff = phrase("handoff", language)
    text = f"{text}\n\n{handoff}" if text else handoff
    return CheckedDraft(text, (FLAG_MONEY_PROMISE,))
