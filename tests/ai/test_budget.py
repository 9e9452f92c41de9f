"""The per-installation monthly token budget: a clear stop, offline fallback, a timeline entry."""

from __future__ import annotations

from saleor_support_plugin.models import CaseEvent, LlmCall
from saleor_support_plugin.services.ai_settings import llm_provider_set, llm_usage_get
from saleor_support_plugin.services.triage import message_triage
from tests.ai.conftest import open_case


def test_budget_exhausted_means_no_call_offline_triage_and_an_event(test_installation, llm_provider, fake_llm):
    # given: most of this month's budget is spent
    llm_provider_set(
        installation=test_installation, model="fake-model", base_url=fake_llm.base_url, monthly_token_budget=5_000
    )
    LlmCall.objects.create(
        installation=test_installation,
        purpose="triage_draft",
        provider_kind="openai",
        model="fake-model",
        prompt_version="triage_draft.v1",
        tokens_in=4000,
        tokens_out=500,
        outcome="ok",
    )
    case, message = open_case(test_installation, "Where is my order?")

    # when
    triage = message_triage(message_id=message.pk)

    # then
    assert (triage.engine, triage.fallback_reason) == ("offline", "budget")
    assert fake_llm.requests == []
    event = CaseEvent.objects.get(case=case, type="llm_budget_exhausted")
    assert event.parameters == {"used_tokens": 4500, "budget_tokens": 5000}


def test_usage_counts_this_month_only(test_installation):
    from datetime import timedelta

    from django.utils import timezone

    LlmCall.objects.create(
        installation=test_installation,
        purpose="triage_draft",
        provider_kind="openai",
        model="m",
        prompt_version="v",
        tokens_in=100,
        tokens_out=20,
        outcome="ok",
    )
    LlmCall.objects.create(
        installation=test_installation,
        purpose="triage_draft",
        provider_kind="openai",
        model="m",
        prompt_version="v",
        tokens_in=999,
        tokens_out=1,
        outcome="ok",
        created_at=timezone.now() - timedelta(days=40),
    )

    assert llm_usage_get(installation=test_installation, budget_tokens=1000).used_tokens == 120
