"""Offline drafts: the best macro for the intent, filled with the order's facts.

Macros use ``$variables`` (``string.Template``). A variable the order cannot fill is a *missing fact*: the
draft still shows it (as ``$tracking_number``) so staff see the gap, and autopilot will not send it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from saleor_support_plugin.ai.guardrails import phrase
from saleor_support_plugin.ai.retrieval import Doc, bm25_rank

# Every $name a macro may use; services/macros.py ``macro_values`` fills them for staff previews and drafts alike.
MACRO_VARIABLES = frozenset(
    {"customer_name", "customer_email", "agent_email", "first_name", "order_number", "order_status",
     "tracking_number", "tracking_numbers", "items", "refunded_total", "currency", "case_number"}
)  # fmt: skip
# Facts an answer to this intent cannot do without (issue §4: "order_status with tracking").
REQUIRED_FACTS: dict[str, tuple[str, ...]] = {
    "order_status": ("order_number", "tracking_number"),
    "delivery_delay": ("order_number", "tracking_number"),
    "invoice": ("order_number",),
    "refund_status": ("order_number",),
}


@dataclass(frozen=True, slots=True)
class DraftText:
    body: str
    citations: tuple[str, ...]
    missing_facts: tuple[str, ...]


def macro_variables_used(body: str) -> set[str]:
    names = set()
    for _, named, braced, _ in string.Template.pattern.findall(body):
        if named or braced:
            names.add(named or braced)
    return names


def macro_render(body: str, variables: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """Fill ``body``; returns the text and the variables it needed but did not get."""
    missing = tuple(sorted(v for v in macro_variables_used(body) if not variables.get(v)))
    return string.Template(body).safe_substitute({k: v for k, v in variables.items() if v}), missing


def _language_fit(doc: Doc, language: str) -> int:
    if not doc.language:
        return 1
    return 2 if doc.language.split("-")[0].lower() == language.split("-")[0].lower() else 0


def macro_pick(*, macros: list[Doc], intent: str, language: str, query: str) -> Doc | None:
    """A macro for this intent in the shopper's language (or language-neutral), most relevant first."""
    fitting = [m for m in macros if m.reason in (intent, "") and _language_fit(m, language)]
    if not fitting:
        return None
    relevance = dict((d.key, s) for d, s in bm25_rank(query, fitting, limit=len(fitting)))
    best = max(fitting, key=lambda m: (m.reason == intent, _language_fit(m, language), relevance.get(m.key, 0.0)))
    if best.reason != intent and relevance.get(best.key, 0.0) <= 0:
        return None
    return best


def missing_required(intent: str, variables: dict[str, str]) -> tuple[str, ...]:
    return tuple(f for f in REQUIRED_FACTS.get(intent, ()) if not variables.get(f))


def draft_offline(*, intent: str, language: str, query: str, macros: list[Doc], variables: dict[str, str]) -> DraftText:
    macro = macro_pick(macros=macros, intent=intent, language=language, query=query)
    if macro is None:
        body, missing = macro_render(phrase("fallback", language), variables)
        body = body.replace(" $first_name", "").replace("$first_name ", "").replace("$first_name", "")
        return DraftText(body, (), tuple(sorted({*missing_required(intent, variables), "macro"} - {"first_name"})))
    body, missing = macro_render(macro.body, variables)
    citations = (macro.key, "order") if any(v in variables for v in macro_variables_used(macro.body)) else (macro.key,)
    return DraftText(body, citations, tuple(sorted({*missing, *missing_required(intent, variables)})))
