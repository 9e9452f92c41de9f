"""Build the chat messages for one triage + draft call from versioned prompt files.

Shopper text is data, never instructions: it is sent redacted, inside <shopper_message> delimiters, with
any angle brackets turned into look-alikes so a message cannot close the delimiter and speak as us.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from saleor_support_plugin.ai.retrieval import Doc
from saleor_support_plugin.ai.schemas import INTENTS

PROMPTS = Path(__file__).resolve().parent / "prompts"
PROMPT_VERSION = "triage_draft.v1"
REPAIR_VERSION = "repair.v1"
SCHEMA_NAME = "triage_draft"
MAX_MESSAGE_CHARS = 3000
MAX_SNIPPET_CHARS = 500


@cache
def prompt_text(name: str) -> str:
    return (PROMPTS / f"{name}.md").read_text(encoding="utf-8").strip()


@cache
def triage_draft_schema() -> dict:
    return json.loads((PROMPTS / f"{SCHEMA_NAME}.schema.json").read_text(encoding="utf-8"))


def _inert(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


@dataclass(frozen=True, slots=True)
class PromptInput:
    message: str  # already redacted
    facts: str
    knowledge: tuple[Doc, ...]
    language_hint: str = ""


def _knowledge_block(docs: tuple[Doc, ...]) -> str:
    if not docs:
        return "(none)"
    parts = []
    for doc in docs:
        lang = f" ({doc.language})" if doc.language else ""
        parts.append(f"[{doc.key}] {_inert(doc.title)}{lang}: {_inert(doc.body[:MAX_SNIPPET_CHARS])}")
    return "\n".join(parts)


def prompt_messages(data: PromptInput) -> list[dict]:
    system = prompt_text(PROMPT_VERSION).replace("{intents}", ", ".join(INTENTS))
    hint = f"\nThe shop's record says the shopper's language is {data.language_hint}." if data.language_hint else ""
    user = (
        f"<order_facts>\n{_inert(data.facts)}\n</order_facts>\n"
        f"<knowledge>\n{_knowledge_block(data.knowledge)}\n</knowledge>{hint}\n"
        f"<shopper_message>\n{_inert(data.message[:MAX_MESSAGE_CHARS])}\n</shopper_message>"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_messages(messages: list[dict], *, previous: str, error: str) -> list[dict]:
    repair = prompt_text(REPAIR_VERSION).replace("{error}", error[:500])
    return [*messages, {"role": "assistant", "content": previous[:4000]}, {"role": "user", "content": repair}]
