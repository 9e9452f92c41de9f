"""Staff AI settings over GraphQL: model provider (key encrypted, never returned), usage, autopilot rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from saleor_support_plugin.crypto import token_decrypt
from saleor_support_plugin.models import AutopilotRule, LlmCall, LlmProvider
from tests.graphql.conftest import staff_headers

KEY = "sk-test-abcdefghijklmnop-WXYZ"
ADMIN = ("MANAGE_ORDERS", "MANAGE_APPS")
PROVIDER = (
    "{ provider { kind baseUrl model hasApiKey apiKeyLast4 isEnabled timeoutSeconds maxOutputTokens "
    "monthlyTokenBudget } errors { field code message } }"
)
UPDATE = "mutation($input: LlmProviderInput!) { llmProviderUpdate(input: $input) " + PROVIDER + " }"


@pytest.fixture
def staff(gql, test_installation):
    def run(document, variables=None, permissions=ADMIN):
        return gql("staff", document, variables or {}, staff_headers(test_installation, permissions=permissions))

    return run


def test_provider_update_encrypts_the_key_and_never_returns_it(staff, test_installation):
    # when
    result = staff(UPDATE, {"input": {"baseUrl": "http://127.0.0.1:11434/v1", "apiKey": KEY, "model": "llama3.1",
                                      "monthlyTokenBudget": 500000, "maxOutputTokens": 600}})  # fmt: skip
    read = staff("{ llmProvider { model hasApiKey apiKeyLast4 monthlyTokenBudget } }", permissions=("MANAGE_ORDERS",))
    # then
    payload = result.data["llmProviderUpdate"]
    assert payload["errors"] == []
    assert payload["provider"] | {} == {
        "kind": "OPENAI", "baseUrl": "http://127.0.0.1:11434/v1", "model": "llama3.1", "hasApiKey": True,
        "apiKeyLast4": "WXYZ", "isEnabled": True, "timeoutSeconds": 20.0, "maxOutputTokens": 600,
        "monthlyTokenBudget": 500000,
    }  # fmt: skip
    row = LlmProvider.objects.get(installation=test_installation)
    assert row.api_key_encrypted and row.api_key_encrypted != KEY and KEY not in row.api_key_encrypted
    assert token_decrypt(row.api_key_encrypted) == KEY
    assert KEY not in str(result.body) and KEY not in str(read.body)
    assert read.data["llmProvider"] == {
        "model": "llama3.1",
        "hasApiKey": True,
        "apiKeyLast4": "WXYZ",
        "monthlyTokenBudget": 500000,
    }


def test_partial_update_keeps_the_key_and_other_fields_and_empty_key_removes_it(staff, test_installation):
    staff(UPDATE, {"input": {"apiKey": KEY, "model": "gpt-4o-mini", "timeoutSeconds": 30}})
    # when
    changed = staff(UPDATE, {"input": {"isEnabled": False}}).data["llmProviderUpdate"]["provider"]
    removed = staff(UPDATE, {"input": {"apiKey": ""}}).data["llmProviderUpdate"]["provider"]
    # then
    assert changed["model"] == "gpt-4o-mini" and changed["timeoutSeconds"] == 30.0 and changed["hasApiKey"]
    assert changed["isEnabled"] is False
    assert removed["hasApiKey"] is False and removed["apiKeyLast4"] is None
    assert LlmProvider.objects.get(installation=test_installation).api_key_encrypted == ""


@pytest.mark.parametrize(
    ("input_", "error"),
    [
        ({"apiKey": KEY}, {"field": "model", "code": "REQUIRED"}),
        ({"model": "m", "monthlyTokenBudget": -1}, {"field": "monthlyTokenBudget", "code": "INVALID"}),
        ({"model": "m", "maxOutputTokens": 10}, {"field": "maxOutputTokens", "code": "INVALID"}),
        ({"model": "m", "timeoutSeconds": 0}, {"field": "timeoutSeconds", "code": "INVALID"}),
        ({"model": "m", "timeoutSeconds": 500}, {"field": "timeoutSeconds", "code": "INVALID"}),
        ({"model": "m", "baseUrl": "ftp://x"}, {"field": "baseUrl", "code": "INVALID"}),
        ({"model": "m", "kind": "AZURE"}, {"field": "baseUrl", "code": "REQUIRED"}),
        ({"model": "m" * 200}, {"field": "model", "code": "INVALID"}),
        ({"model": "m", "inputCostPerMillion": "-1"}, {"field": "inputCostPerMillion", "code": "INVALID"}),
    ],
)
def test_invalid_settings_are_payload_errors_and_nothing_is_stored(staff, test_installation, input_, error):
    result = staff(UPDATE, {"input": input_}).data["llmProviderUpdate"]
    assert result["provider"] is None
    assert [{"field": e["field"], "code": e["code"]} for e in result["errors"]] == [error]
    assert not LlmProvider.objects.filter(installation=test_installation).exists()


def test_provider_update_needs_manage_apps(staff, test_installation):
    result = staff(UPDATE, {"input": {"model": "m"}}, permissions=("MANAGE_ORDERS", "HANDLE_PAYMENTS"))
    assert result.error_codes == ["FORBIDDEN"]
    assert not LlmProvider.objects.filter(installation=test_installation).exists()


def test_usage_sums_this_installations_calls_of_the_month(staff, test_installation, other_installation):
    # given
    at = timezone.now().replace(year=2025, month=3, day=15)
    common = {"purpose": "triage_draft", "provider_kind": "openai", "model": "m", "prompt_version": "v1"}
    LlmCall.objects.create(installation=test_installation, tokens_in=100, tokens_out=50, outcome="ok",
                           estimated_cost=Decimal("0.01"), created_at=at, **common)  # fmt: skip
    LlmCall.objects.create(installation=test_installation, tokens_in=10, outcome="timeout", created_at=at, **common)
    LlmCall.objects.create(installation=test_installation, tokens_in=999, outcome="ok",
                           created_at=at.replace(month=4), **common)  # fmt: skip
    LlmCall.objects.create(installation=other_installation, tokens_in=777, outcome="ok", created_at=at, **common)
    # when
    result = staff('{ llmUsage(month: "2025-03") { monthStart calls failedCalls tokensIn tokensOut usedTokens '
                   "budgetTokens estimatedCost } }", permissions=("MANAGE_ORDERS",))  # fmt: skip
    bad = staff('{ llmUsage(month: "March") { calls } }', permissions=("MANAGE_ORDERS",))
    # then
    assert result.data["llmUsage"] == {
        "monthStart": "2025-03-01T00:00:00+00:00", "calls": 2, "failedCalls": 1, "tokensIn": 110, "tokensOut": 50,
        "usedTokens": 160, "budgetTokens": None, "estimatedCost": "0.010000",
    }  # fmt: skip
    assert bad.error_codes == ["INVALID"]


def test_autopilot_rules_list_every_intent_and_money_intents_are_refused(staff, test_installation):
    # when
    on = staff("mutation { autopilotRuleSet(intent: ORDER_STATUS, isEnabled: true, minConfidence: 0.8) "
               "{ rule { intent isEnabled minConfidence staffOnly } errors { field code } } }")  # fmt: skip
    refund = staff("mutation { autopilotRuleSet(intent: REFUND_REQUEST, isEnabled: true) "
                   "{ rule { intent } errors { field code message } } }")  # fmt: skip
    low = staff("mutation { autopilotRuleSet(intent: ORDER_STATUS, isEnabled: true, minConfidence: 0.2) "
                "{ rule { intent } errors { field code } } }")  # fmt: skip
    listed = staff("{ autopilotRules { intent isEnabled minConfidence staffOnly } }", permissions=("MANAGE_ORDERS",))
    forbidden = staff("mutation { autopilotRuleSet(intent: ORDER_STATUS, isEnabled: false) { errors { code } } }",
                      permissions=("MANAGE_ORDERS",))  # fmt: skip
    # then
    assert on.data["autopilotRuleSet"] == {
        "rule": {"intent": "ORDER_STATUS", "isEnabled": True, "minConfidence": 0.8, "staffOnly": False},
        "errors": [],
    }
    assert refund.data["autopilotRuleSet"]["rule"] is None
    assert [(e["field"], e["code"]) for e in refund.data["autopilotRuleSet"]["errors"]] == [
        ("intent", "AUTOPILOT_MONEY_INTENT")
    ]
    assert low.data["autopilotRuleSet"]["errors"] == [{"field": "minConfidence", "code": "INVALID"}]
    rules = {r["intent"]: r for r in listed.data["autopilotRules"]}
    assert rules["ORDER_STATUS"]["isEnabled"] is True
    assert rules["REFUND_REQUEST"] == {"intent": "REFUND_REQUEST", "isEnabled": False, "minConfidence": 0.9,
                                       "staffOnly": True}  # fmt: skip
    assert forbidden.error_codes == ["FORBIDDEN"]
    assert list(AutopilotRule.objects.filter(installation=test_installation).values_list("intent", flat=True)) == [
        "order_status"
    ]
