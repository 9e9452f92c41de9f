"""The model path end to end: the real openai client over HTTP against the local fake server.

Whatever the server does (valid answer, broken JSON, refusal, 429, 500, timeout, bad key), the message
ends up triaged with a draft, and every call is in the ledger.
"""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.ai.client import LlmUnavailableError
from saleor_support_plugin.models import CaseEvent, LlmCall, MessageTriage, ReplyDraft
from saleor_support_plugin.services.triage import message_triage, message_triage_fallback
from saleor_support_plugin.tasks import MessageTriageTask
from tests.ai.conftest import open_case, order_snapshot
from tests.ai.fake_openai import Reply

WISMO = "Hi, where is my order? My email is ana.silva@example.com and my phone +351 912 345 678."


def _outcomes(message) -> list[tuple[str, str]]:
    return list(LlmCall.objects.filter(message=message).order_by("pk").values_list("purpose", "outcome"))


def _event_types(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("type", flat=True))


def test_valid_structured_answer_is_stored_with_pii_restored_and_the_call_recorded(
    test_installation, llm_provider, fake_llm
):
    # given
    order = order_snapshot(test_installation)
    case, message = open_case(test_installation, WISMO, order=order)
    fake_llm.script = [
        Reply.answer(reply="Hi Ana, I will write to [EMAIL_1] once it moves. Tracking 1Z999AA10123456784.")
    ]

    # when
    triage = message_triage(message_id=message.pk)

    # then
    assert (triage.engine, triage.intent, triage.is_final, triage.fallback_reason) == ("llm", "order_status", True, "")
    assert triage.offline_intent == "order_status"
    draft = ReplyDraft.objects.get(message=message)
    assert "ana.silva@example.com" in draft.body and draft.citations == ["order"]
    call = LlmCall.objects.get(message=message)
    assert (call.purpose, call.outcome, call.prompt_version, call.model) == (
        "triage_draft",
        "ok",
        "triage_draft.v1",
        "fake-model",
    )
    assert call.tokens_in > 0 and call.tokens_out > 0 and call.estimated_cost > 0
    sent = json.dumps(fake_llm.requests[0], ensure_ascii=False)
    assert "ana.silva@example.com" not in sent and "912 345 678" not in sent and "Rua das Flores" not in sent
    assert "[EMAIL_1]" in sent and "<shopper_message>" in sent
    assert fake_llm.requests[0]["response_format"]["type"] == "json_schema"
    assert case.__class__.objects.get(pk=case.pk).reason == "order_status"  # the case learnt its reason
    assert "case_triaged" in _event_types(case) and "reply_drafted" in _event_types(case)


def test_malformed_json_is_repaired_with_one_more_call(test_installation, llm_provider, fake_llm):
    case, message = open_case(test_installation, "I want to return these shoes, they are too small")
    fake_llm.script = [
        Reply(content='{"intent": "return_request", "sentiment": 0,'),
        Reply.answer(intent="return_request"),
    ]

    triage = message_triage(message_id=message.pk)

    assert (triage.engine, triage.intent) == ("llm", "return_request")
    assert _outcomes(message) == [("triage_draft", "invalid_output"), ("repair", "ok")]
    assert len(fake_llm.requests) == 2
    assert fake_llm.requests[1]["messages"][-1]["role"] == "user"  # the repair names the problem


def test_still_invalid_after_repair_falls_back_offline(test_installation, llm_provider, fake_llm):
    case, message = open_case(test_installation, "I want to return these shoes, they are too small")
    fake_llm.script = [Reply(content="not json at all"), Reply.answer(intent="not_an_intent")]

    triage = message_triage(message_id=message.pk)

    assert (triage.engine, triage.fallback_reason, triage.is_final) == ("offline", "invalid_output", True)
    assert triage.intent == "return_request"
    assert _outcomes(message) == [("triage_draft", "invalid_output"), ("repair", "invalid_output")]
    assert ReplyDraft.objects.filter(message=message).exists()


def test_refusal_falls_back_offline_without_repair(test_installation, llm_provider, fake_llm):
    case, message = open_case(test_installation, "My card was declined twice")
    fake_llm.script = [Reply(refusal="I can't help with that.")]

    triage = message_triage(message_id=message.pk)

    assert (triage.engine, triage.fallback_reason, triage.intent) == ("offline", "refusal", "payment_issue")
    assert _outcomes(message) == [("triage_draft", "refusal")]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (Reply(status=429), "rate_limited"),
        (Reply(status=500), "server_error"),
        (Reply(status=503), "server_error"),
        (Reply(delay=1.5), "timeout"),
    ],
)
def test_transient_errors_store_a_provisional_triage_and_ask_celery_to_retry(
    test_installation, llm_provider, fake_llm, reply, outcome
):
    # given
    case, message = open_case(test_installation, "Where is my parcel? Order 1042")
    fake_llm.script = [reply]

    # when: not the last attempt → the error propagates for Celery's autoretry
    with pytest.raises(LlmUnavailableError):
        message_triage(message_id=message.pk, final_attempt=False)

    # then: triaged already (offline, provisional), the call recorded, no SDK retry behind our back
    triage = MessageTriage.objects.get(message=message)
    assert (triage.engine, triage.is_final, triage.fallback_reason) == ("offline", False, "llm_retrying")
    assert _outcomes(message) == [("triage_draft", outcome)]
    assert len(fake_llm.requests) == 1

    # when: the retry succeeds → upgraded in place
    upgraded = message_triage(message_id=message.pk, final_attempt=False)
    assert (upgraded.pk, upgraded.engine, upgraded.is_final) == (triage.pk, "llm", True)
    assert ReplyDraft.objects.get(message=message).engine == "llm"


def test_last_attempt_with_the_server_down_finalises_offline_and_says_so(test_installation, llm_provider, fake_llm):
    case, message = open_case(test_installation, "Where is my parcel? Order 1042")
    fake_llm.script = [Reply(status=500)]

    triage = message_triage(message_id=message.pk, final_attempt=True)

    assert (triage.engine, triage.is_final, triage.fallback_reason) == ("offline", True, "llm_unavailable")
    assert "llm_failed" in _event_types(case)


def test_bad_api_key_is_permanent_and_falls_back_offline(test_installation, llm_provider, fake_llm):
    case, message = open_case(test_installation, "how do I reset my password")
    fake_llm.script = [Reply(status=401, error="invalid api key")]

    triage = message_triage(message_id=message.pk, final_attempt=False)  # no exception: nothing to retry

    assert (triage.engine, triage.fallback_reason, triage.intent) == ("offline", "llm_auth", "account")
    assert _outcomes(message) == [("triage_draft", "auth_error")]


def test_a_final_triage_is_not_redone(test_installation, llm_provider, fake_llm):
    case, message = open_case(test_installation, "Where is my parcel?")
    first = message_triage(message_id=message.pk)

    again = message_triage(message_id=message.pk)

    assert again.pk == first.pk and len(fake_llm.requests) == 1


def test_task_failure_hook_finalises_offline(test_installation, llm_provider, fake_llm):
    # given: retries ran out while the server kept failing
    case, message = open_case(test_installation, "Where is my parcel?")
    fake_llm.script = [Reply(status=429)]
    with pytest.raises(LlmUnavailableError):
        message_triage(message_id=message.pk, final_attempt=False)

    # when
    MessageTriageTask().on_failure(
        LlmUnavailableError("x", outcome="rate_limited", latency_ms=1), "t", (message.pk,), {}, None
    )

    # then
    triage = MessageTriage.objects.get(message=message)
    assert (triage.is_final, triage.engine, triage.fallback_reason) == (
        True,
        "offline",
        "task_failed:LlmUnavailableError",
    )


def test_fallback_without_any_provider_is_offline(test_installation):
    case, message = open_case(test_installation, "Hvor er pakken min?")

    triage = message_triage_fallback(message_id=message.pk, reason="manual")

    assert (triage.engine, triage.intent, triage.language) == ("offline", "order_status", "no")
