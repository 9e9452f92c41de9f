"""One inbound message → at most one model call (plus one repair if the answer is invalid).

Returns the validated answer or ``None`` (refusal, or still invalid after the repair); the caller then
falls back to the offline engine. Transport errors propagate as the client raised them. Every HTTP call,
whatever its result, is reported through ``on_call`` so it is recorded even when an error follows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from saleor_support_plugin.ai.client import ChatClient, ChatResult, LlmRejectedError, LlmUnavailableError
from saleor_support_plugin.ai.prompting import (
    PROMPT_VERSION,
    REPAIR_VERSION,
    SCHEMA_NAME,
    repair_messages,
    triage_draft_schema,
)
from saleor_support_plugin.ai.schemas import LlmTriageDraft


@dataclass(frozen=True, slots=True)
class CallRecord:
    purpose: str
    prompt_version: str
    model: str
    outcome: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    request_id: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class LlmAnswer:
    answer: LlmTriageDraft | None
    failure: str  # "" | "refusal" | "invalid_output"


def _parse(content: str) -> LlmTriageDraft:
    text = content.strip()
    if text.startswith("```"):  # some local models fence JSON even in JSON mode
        text = text.strip("`").removeprefix("json").strip()
    return LlmTriageDraft.model_validate(json.loads(text))


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'root'}: {e['msg']}" for e in exc.errors()[:5])
    return f"not valid JSON ({exc})"


def _call(client: ChatClient, messages: list[dict], purpose: str, version: str, on_call) -> ChatResult:
    try:
        result = client.chat_json(messages=messages, schema_name=SCHEMA_NAME, schema=triage_draft_schema())
    except (LlmUnavailableError, LlmRejectedError) as exc:
        on_call(CallRecord(purpose, version, client.model, exc.outcome, latency_ms=exc.latency_ms, error=exc.message))
        raise
    return result


def _record(result: ChatResult, purpose: str, version: str, outcome: str, error: str = "") -> CallRecord:
    return CallRecord(
        purpose, version, result.model, outcome, result.tokens_in, result.tokens_out, result.latency_ms,
        result.request_id, error,
    )  # fmt: skip


def triage_draft_llm(*, client: ChatClient, messages: list[dict], on_call: Callable[[CallRecord], None]) -> LlmAnswer:
    result = _call(client, messages, "triage_draft", PROMPT_VERSION, on_call)
    if result.refusal:
        on_call(_record(result, "triage_draft", PROMPT_VERSION, "refusal", result.refusal[:500]))
        return LlmAnswer(None, "refusal")
    try:
        answer = _parse(result.content)
    except (ValueError, ValidationError) as exc:
        problem = _problem(exc)
        on_call(_record(result, "triage_draft", PROMPT_VERSION, "invalid_output", problem))
    else:
        on_call(_record(result, "triage_draft", PROMPT_VERSION, "ok"))
        return LlmAnswer(answer, "")
    retry = repair_messages(messages, previous=result.content, error=problem)
    repaired = _call(client, retry, "repair", REPAIR_VERSION, on_call)
    if repaired.refusal:
        on_call(_record(repaired, "repair", REPAIR_VERSION, "refusal", repaired.refusal[:500]))
        return LlmAnswer(None, "refusal")
    try:
        answer = _parse(repaired.content)
    except (ValueError, ValidationError) as exc:
        on_call(_record(repaired, "repair", REPAIR_VERSION, "invalid_output", _problem(exc)))
        return LlmAnswer(None, "invalid_output")
    on_call(_record(repaired, "repair", REPAIR_VERSION, "ok"))
    return LlmAnswer(answer, "")
