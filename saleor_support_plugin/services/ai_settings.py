"""Per-installation AI settings: the model provider, its budget, and autopilot rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.db.models import Sum
from django.utils import timezone

from saleor_support_plugin.ai.client import ChatClient, OpenAIChatClient, ProviderConfig
from saleor_support_plugin.ai.schemas import MONEY_INTENTS
from saleor_support_plugin.crypto import token_decrypt, token_encrypt
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import (
    AutopilotRule,
    CaseReason,
    Installation,
    LlmCall,
    LlmProvider,
    LlmProviderKind,
    StructuredOutput,
)


def _invalid(message: str, field: str) -> PermanentError:
    return PermanentError(SupportErrorCode.INVALID, message, field=field)


def llm_provider_set(
    *, installation: Installation, model: str, base_url: str = "", api_key: str | None = None,
    kind: str = LlmProviderKind.OPENAI, api_version: str = "", structured_output: str = StructuredOutput.JSON_SCHEMA,
    is_enabled: bool = True, timeout_seconds: float = 20.0, max_output_tokens: int = 700,
    monthly_token_budget: int = 2_000_000, input_cost_per_million: Decimal = Decimal(0),
    output_cost_per_million: Decimal = Decimal(0),
) -> LlmProvider:  # fmt: skip
    """Create or replace the installation's model settings. ``api_key=None`` keeps the stored key.

    Writes: LlmProvider (the key encrypted at rest). No call to the provider here.
    """
    if not (model or "").strip():
        raise PermanentError(SupportErrorCode.REQUIRED, "A model (or Azure deployment) is required.", field="model")
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise _invalid("The base URL must start with http:// or https://.", "base_url")
    if kind not in LlmProviderKind.values:
        raise _invalid(f"Unknown provider kind {kind!r}.", "kind")
    if kind == LlmProviderKind.AZURE and not base_url:
        raise PermanentError(SupportErrorCode.REQUIRED, "Azure needs the resource endpoint.", field="base_url")
    if structured_output not in StructuredOutput.values:
        raise _invalid(f"Unknown structured output mode {structured_output!r}.", "structured_output")
    if not 0 < timeout_seconds <= 120:
        raise _invalid("The timeout must be between 0 and 120 seconds.", "timeout_seconds")
    if not 64 <= max_output_tokens <= 8000 or monthly_token_budget < 0:
        raise _invalid("Token limits are out of range.", "max_output_tokens")
    provider = LlmProvider.objects.filter(installation=installation).first() or LlmProvider(installation=installation)
    provider.kind, provider.base_url, provider.model = kind, base_url.strip(), model.strip()
    provider.api_version, provider.structured_output, provider.is_enabled = api_version, structured_output, is_enabled
    provider.timeout_seconds, provider.max_output_tokens = timeout_seconds, max_output_tokens
    provider.monthly_token_budget = monthly_token_budget
    provider.input_cost_per_million, provider.output_cost_per_million = input_cost_per_million, output_cost_per_million
    if api_key is not None:
        provider.api_key_encrypted = token_encrypt(api_key) if api_key else ""
    provider.save()
    return provider


_UPDATABLE = (
    "kind", "base_url", "api_version", "model", "structured_output", "is_enabled", "timeout_seconds",
    "max_output_tokens", "monthly_token_budget", "input_cost_per_million", "output_cost_per_million",
)  # fmt: skip
_LIMITS = {"base_url": 512, "model": 128, "api_version": 32}
MAX_MONTHLY_BUDGET = 2_000_000_000
MAX_COST_PER_MILLION = Decimal("999999.9999")


def llm_provider_update(*, installation: Installation, api_key: str | None = None, **changes: object) -> LlmProvider:
    """Change the given settings (a ``None`` keeps the current value, or the default on first save).

    ``api_key``: None keeps the stored key, "" removes it. Validates, then ``llm_provider_set`` writes.
    """
    unknown = set(changes) - set(_UPDATABLE)
    if unknown:
        raise TypeError(f"unknown provider settings: {sorted(unknown)}")
    current = LlmProvider.objects.filter(installation=installation).first()
    values = {name: getattr(current, name) for name in _UPDATABLE} if current else {}
    values |= {name: value for name, value in changes.items() if value is not None}
    values.setdefault("model", "")
    for name, limit in _LIMITS.items():
        if len(str(values.get(name) or "")) > limit:
            raise _invalid(f"{name} is longer than {limit} characters.", name)
    budget = values.get("monthly_token_budget")
    if budget is not None and not 0 <= int(budget) <= MAX_MONTHLY_BUDGET:
        raise _invalid(f"The monthly token budget must be between 0 and {MAX_MONTHLY_BUDGET}.", "monthly_token_budget")
    for name in ("input_cost_per_million", "output_cost_per_million"):
        cost = values.get(name)
        if cost is not None and not Decimal(0) <= Decimal(cost) <= MAX_COST_PER_MILLION:
            raise _invalid("A cost per million tokens must be between 0 and 999999.9999.", name)
    if api_key is not None and len(api_key) > 1000:
        raise _invalid("The API key is longer than 1000 characters.", "api_key")
    return llm_provider_set(installation=installation, api_key=api_key, **values)


def llm_provider_key_hint(provider: LlmProvider) -> str | None:
    """The last 4 characters of the stored key (for "is it the right key?"), never more; None without one."""
    if not provider.api_key_encrypted:
        return None
    try:
        key = token_decrypt(provider.api_key_encrypted)
    except PermanentError:
        return None
    return key[-4:] if len(key) >= 12 else None


def chat_client_for(provider: LlmProvider) -> ChatClient:
    """The real client for a provider row (services take a factory argument so tests can swap it)."""
    return OpenAIChatClient(
        ProviderConfig(
            kind=provider.kind,
            base_url=provider.base_url,
            api_key=token_decrypt(provider.api_key_encrypted) if provider.api_key_encrypted else "",
            model=provider.model,
            api_version=provider.api_version,
            structured_output=provider.structured_output,
            timeout_seconds=provider.timeout_seconds,
            max_output_tokens=provider.max_output_tokens,
        )
    )


@dataclass(frozen=True, slots=True)
class LlmUsage:
    used_tokens: int
    budget_tokens: int
    estimated_cost: Decimal
    month_start: datetime

    def allows(self, tokens: int) -> bool:
        return self.used_tokens + tokens <= self.budget_tokens


def llm_usage_get(*, installation: Installation, budget_tokens: int, at: datetime | None = None) -> LlmUsage:
    """Tokens and estimated cost spent this calendar month (UTC) by the installation's model calls."""
    at = at or timezone.now()
    start = at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    totals = LlmCall.objects.filter(installation=installation, created_at__gte=start).aggregate(
        tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), cost=Sum("estimated_cost")
    )
    used = (totals["tokens_in"] or 0) + (totals["tokens_out"] or 0)
    return LlmUsage(used, budget_tokens, totals["cost"] or Decimal(0), start)


def autopilot_rule_set(
    *, installation: Installation, intent: str, is_enabled: bool, min_confidence: float = 0.9
) -> AutopilotRule:
    """Switch autopilot on or off for one intent. Refuses money intents. Writes: AutopilotRule."""
    if intent not in CaseReason.values:
        raise _invalid(f"Unknown intent {intent!r}.", "intent")
    if is_enabled and intent in MONEY_INTENTS:
        raise PermanentError(
            SupportErrorCode.AUTOPILOT_MONEY_INTENT,
            "Refunds, cancellations, returns and payments are always answered by staff.",
            field="intent",
        )
    if not 0.5 <= min_confidence <= 1.0:
        raise _invalid("The confidence threshold must be between 0.5 and 1.", "min_confidence")
    rule, _ = AutopilotRule.objects.update_or_create(
        installation=installation, intent=intent, defaults={"is_enabled": is_enabled, "min_confidence": min_confidence}
    )
    return rule
