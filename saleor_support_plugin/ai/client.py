"""The one door to language models: an OpenAI-compatible chat client with structured output.

Works with OpenAI, Azure OpenAI and any server speaking the same API (Ollama, vLLM, llama.cpp). The SDK's
own retries are off (``max_retries=0``): Celery owns retries (docs/architecture §1.10), so a 429 or a 5xx
becomes ``LlmUnavailableError`` (a ``RetryableError``) and the task tries again later with backoff. Vendor
exceptions never leave this module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import httpx
import openai

from saleor_support_plugin.errors import PermanentError, RetryableError, SupportErrorCode

CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    kind: str  # openai | azure
    base_url: str
    api_key: str
    model: str
    api_version: str = ""
    structured_output: str = "json_schema"  # or json_object
    timeout_seconds: float = 20.0
    max_output_tokens: int = 700


@dataclass(frozen=True, slots=True)
class ChatResult:
    content: str
    refusal: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    model: str
    request_id: str


class LlmUnavailableError(RetryableError):
    """429, 5xx, timeout or no connection: the same call may work later."""

    def __init__(self, message: str, *, outcome: str, latency_ms: int) -> None:
        super().__init__(SupportErrorCode.LLM_UNAVAILABLE, message)
        self.outcome = outcome
        self.latency_ms = latency_ms


class LlmRejectedError(PermanentError):
    """Bad key, no access, or a request the server refuses: retrying cannot help."""

    def __init__(self, code: SupportErrorCode, message: str, *, outcome: str, latency_ms: int) -> None:
        super().__init__(code, message)
        self.outcome = outcome
        self.latency_ms = latency_ms


class ChatClient(Protocol):
    model: str

    def chat_json(self, *, messages: list[dict], schema_name: str, schema: dict) -> ChatResult: ...


class OpenAIChatClient:
    def __init__(self, config: ProviderConfig) -> None:
        self.model = config.model
        self._config = config
        timeout = httpx.Timeout(config.timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, config.timeout_seconds))
        if config.kind == "azure":
            self._client = openai.AzureOpenAI(
                azure_endpoint=config.base_url,
                api_key=config.api_key,
                api_version=config.api_version or "2024-10-21",
                timeout=timeout,
                max_retries=0,
            )
        else:
            self._client = openai.OpenAI(
                base_url=config.base_url or None,
                api_key=config.api_key or "not-needed",  # local servers often take no key
                timeout=timeout,
                max_retries=0,
            )

    def _response_format(self, schema_name: str, schema: dict) -> dict:
        if self._config.structured_output == "json_object":
            return {"type": "json_object"}
        return {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": True}}

    def chat_json(self, *, messages: list[dict], schema_name: str, schema: dict) -> ChatResult:
        """One chat completion constrained to ``schema``. Raises LlmUnavailableError / LlmRejectedError."""
        started = time.monotonic()
        try:
            completion = self._client.chat.completions.create(
                model=self._config.model,
                messages=messages,
                response_format=self._response_format(schema_name, schema),
                max_tokens=self._config.max_output_tokens,
            )
        except openai.APIError as exc:
            raise _translate(exc, _elapsed_ms(started)) from exc
        message = completion.choices[0].message if completion.choices else None
        usage = completion.usage
        return ChatResult(
            content=(message.content or "") if message else "",
            refusal=(getattr(message, "refusal", None) or "") if message else "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
            latency_ms=_elapsed_ms(started),
            model=completion.model or self._config.model,
            request_id=getattr(completion, "_request_id", None) or completion.id or "",
        )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _translate(exc: openai.APIError, latency_ms: int) -> Exception:
    if isinstance(exc, openai.APITimeoutError):
        return LlmUnavailableError("The model did not answer in time.", outcome="timeout", latency_ms=latency_ms)
    if isinstance(exc, openai.APIConnectionError):
        return LlmUnavailableError(
            "Could not reach the model server.", outcome="connection_error", latency_ms=latency_ms
        )
    if isinstance(exc, openai.RateLimitError):
        return LlmUnavailableError(
            "The model server is rate limiting us.", outcome="rate_limited", latency_ms=latency_ms
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LlmRejectedError(
            SupportErrorCode.LLM_AUTH_FAILED,
            "The model server refused the API key; update it in the AI settings.",
            outcome="auth_error",
            latency_ms=latency_ms,
        )
    status = getattr(exc, "status_code", None)
    if status is not None and (status >= 500 or status in (408, 409)):
        return LlmUnavailableError(
            f"The model server failed ({status}).", outcome="server_error", latency_ms=latency_ms
        )
    return LlmRejectedError(
        SupportErrorCode.LLM_REJECTED,
        f"The model server rejected the request ({status}): {str(exc)[:200]}",
        outcome="rejected",
        latency_ms=latency_ms,
    )
