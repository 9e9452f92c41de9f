"""Offline triage: no network, no GPU. Intent from our trained linear model, sentiment and urgency from
rules, language from script rules plus py3langid."""

from __future__ import annotations

from saleor_support_plugin.ai.offline.classifier import MODEL_VERSION, intent_classifier
from saleor_support_plugin.ai.offline.language import language_detect
from saleor_support_plugin.ai.offline.signals import signals_detect
from saleor_support_plugin.ai.schemas import Triage

ENGINE_NAME = f"offline:{MODEL_VERSION}"


def triage_offline(text: str, *, language_hint: str = "") -> Triage:
    """Triage one message locally (≈1 ms once the model is loaded)."""
    scores = intent_classifier().scores(text)
    signals = signals_detect(text, intent=scores.intent)
    language = language_detect(text, hint=language_hint)
    return Triage(
        intent=scores.intent,
        sentiment=signals.sentiment,
        urgency=signals.urgency,
        language=language.code,
        confidence=scores.confidence,
    )


def offline_warm_up() -> None:
    """Load the model and the language identifier now rather than on the first message."""
    triage_offline("where is my order?")
