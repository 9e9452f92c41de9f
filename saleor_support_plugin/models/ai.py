"""AI triage and drafts: provider settings, the call ledger, knowledge, macros, autopilot, and results."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from saleor_support_plugin.models.cases import CaseReason

# Autopilot may never answer these (ai/schemas.py MONEY_INTENTS; a test keeps the two equal).
MONEY_REASONS = (
    CaseReason.CANCEL_ORDER, CaseReason.CHANGE_ORDER, CaseReason.RETURN_REQUEST, CaseReason.EXCHANGE_REQUEST,
    CaseReason.REFUND_REQUEST, CaseReason.REFUND_STATUS, CaseReason.PAYMENT_ISSUE, CaseReason.DAMAGED_OR_WRONG_ITEM,
)  # fmt: skip


class LlmProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI or OpenAI-compatible (Ollama, vLLM, llama.cpp)"
    AZURE = "azure", "Azure OpenAI"


class StructuredOutput(models.TextChoices):
    JSON_SCHEMA = "json_schema", "JSON schema (strict)"
    JSON_OBJECT = "json_object", "JSON object (servers without schema support)"


class LlmProvider(models.Model):
    """The model one installation uses. Without a row (or disabled) triage runs offline."""

    installation = models.OneToOneField("support.Installation", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=LlmProviderKind.choices, default=LlmProviderKind.OPENAI)
    base_url = models.URLField(max_length=512, blank=True, default="")  # empty: the vendor default
    api_key_encrypted = models.TextField(blank=True, default="")  # crypto.token_encrypt; never returned
    api_version = models.CharField(max_length=32, blank=True, default="")  # Azure only
    model = models.CharField(max_length=128)  # Azure: the deployment name
    structured_output = models.CharField(
        max_length=12, choices=StructuredOutput.choices, default=StructuredOutput.JSON_SCHEMA
    )
    is_enabled = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(default=20.0)
    max_output_tokens = models.PositiveIntegerField(default=700)
    monthly_token_budget = models.PositiveIntegerField(default=2_000_000)
    input_cost_per_million = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    output_cost_per_million = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_llm_provider"
        constraints = [
            models.CheckConstraint(
                condition=Q(timeout_seconds__gt=0) & Q(timeout_seconds__lte=120), name="llm_provider_timeout_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.model}"


class LlmCallPurpose(models.TextChoices):
    TRIAGE_DRAFT = "triage_draft", "Triage and draft"
    REPAIR = "repair", "Repair of an invalid answer"


class LlmCallOutcome(models.TextChoices):
    OK = "ok", "OK"
    INVALID_OUTPUT = "invalid_output", "Answer failed validation"
    REFUSAL = "refusal", "Model refused"
    RATE_LIMITED = "rate_limited", "Rate limited (429)"
    SERVER_ERROR = "server_error", "Server error (5xx)"
    TIMEOUT = "timeout", "Timed out"
    CONNECTION_ERROR = "connection_error", "Could not connect"
    AUTH_ERROR = "auth_error", "Authentication failed"
    REJECTED = "rejected", "Request rejected (4xx)"


class LlmCall(models.Model):
    """One HTTP call to a model, whatever happened. The budget and the cost report sum these."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("support.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.ForeignKey("support.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    purpose = models.CharField(max_length=16, choices=LlmCallPurpose.choices)
    provider_kind = models.CharField(max_length=12, choices=LlmProviderKind.choices)
    model = models.CharField(max_length=128)
    prompt_version = models.CharField(max_length=64)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    outcome = models.CharField(max_length=16, choices=LlmCallOutcome.choices)
    request_id = models.CharField(max_length=128, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "support_llm_call"
        indexes = [models.Index(fields=["installation", "created_at"], name="llm_call_installation_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.model} {self.outcome}"


class KnowledgeArticle(models.Model):
    """A merchant's help article: grounds drafts and answers shoppers' searches before a case is opened."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    body = models.TextField()
    language = models.CharField(max_length=16, blank=True, default="")  # BCP-47; empty = any
    reason = models.CharField(max_length=32, choices=CaseReason.choices, blank=True, default="")
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_knowledge_article"
        indexes = [models.Index(fields=["installation", "is_published"], name="knowledge_published_idx")]

    def __str__(self) -> str:
        return self.title


class Macro(models.Model):
    """A saved reply. ``body`` may use $variables (ai/drafts.py MACRO_VARIABLES) filled from the order."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    body = models.TextField()
    reason = models.CharField(max_length=32, choices=CaseReason.choices, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")  # BCP-47; empty = any
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_macro"
        constraints = [
            models.UniqueConstraint(fields=["installation", "name", "language"], name="macro_unique_name_language"),
        ]
        indexes = [models.Index(fields=["installation", "is_active", "reason"], name="macro_active_reason_idx")]

    def __str__(self) -> str:
        return self.name


class AutopilotRule(models.Model):
    """Per intent: may a draft go out without a person? Off unless a row says so."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    intent = models.CharField(max_length=32, choices=CaseReason.choices)
    is_enabled = models.BooleanField(default=False)
    min_confidence = models.FloatField(default=0.9)

    class Meta:
        db_table = "support_autopilot_rule"
        constraints = [
            models.UniqueConstraint(fields=["installation", "intent"], name="autopilot_rule_unique_intent"),
            models.CheckConstraint(
                condition=Q(min_confidence__gte=0.5) & Q(min_confidence__lte=1.0), name="autopilot_confidence_range"
            ),
            # Money actions stay with staff, so the database refuses to switch autopilot on for them.
            models.CheckConstraint(
                condition=Q(is_enabled=False) | ~Q(intent__in=MONEY_REASONS), name="autopilot_never_money"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intent} ≥ {self.min_confidence}"


class TriageEngine(models.TextChoices):
    LLM = "llm", "Language model"
    OFFLINE = "offline", "Offline model"


class MessageTriage(models.Model):
    """Intent, sentiment, urgency and language of one inbound message (one row per message)."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("support.Case", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField("support.Message", on_delete=models.CASCADE, related_name="triage")
    engine = models.CharField(max_length=8, choices=TriageEngine.choices)
    engine_version = models.CharField(max_length=160, blank=True, default="")  # model / prompt version
    intent = models.CharField(max_length=32, choices=CaseReason.choices)
    sentiment = models.SmallIntegerField(default=0)
    urgency = models.CharField(max_length=8, default="normal")
    language = models.CharField(max_length=16, blank=True, default="")
    confidence = models.FloatField(default=0.0)
    # The offline verdict is always kept: autopilot needs both engines to agree (services/autopilot.py).
    offline_intent = models.CharField(max_length=32, choices=CaseReason.choices)
    offline_confidence = models.FloatField(default=0.0)
    # Why the offline engine answered although a model is configured (budget, invalid_output, llm_error…).
    fallback_reason = models.CharField(max_length=32, blank=True, default="")
    # False while a transient model error may still be retried; the row is upgraded in place then.
    is_final = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_message_triage"
        constraints = [
            models.CheckConstraint(condition=Q(sentiment__gte=-2) & Q(sentiment__lte=2), name="triage_sentiment_range"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1), name="triage_confidence_range"
            ),
        ]
        indexes = [models.Index(fields=["installation", "intent", "created_at"], name="triage_intent_idx")]

    def __str__(self) -> str:
        return f"{self.intent} ({self.engine}) for message {self.message_id}"


class DraftStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed to staff"
    AUTOSENT = "autosent", "Sent by autopilot"
    USED = "used", "Sent by staff"
    DISCARDED = "discarded", "Discarded"


class ReplyDraft(models.Model):
    """The suggested answer to one inbound message. Never sent by itself except through autopilot."""

    installation = models.ForeignKey("support.Installation", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("support.Case", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField("support.Message", on_delete=models.CASCADE, related_name="reply_draft")
    body = models.TextField()
    engine = models.CharField(max_length=8, choices=TriageEngine.choices)
    # ["macro:12", "article:3", "order"]: what the draft is grounded in.
    citations = models.JSONField(default=list, blank=True)
    # Facts the draft needs but the order lacks (e.g. ["tracking_number"]): autopilot stays off then.
    missing_facts = models.JSONField(default=list, blank=True)
    # Safety post-check findings, e.g. ["money_promise_removed"].
    flags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=DraftStatus.choices, default=DraftStatus.PROPOSED)
    autopilot_decision = models.CharField(max_length=10, blank=True, default="")  # sent | handoff | off
    autopilot_reason = models.CharField(max_length=255, blank=True, default="")
    sent_message = models.ForeignKey(
        "support.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "support_reply_draft"

    def __str__(self) -> str:
        return f"draft for message {self.message_id} ({self.status})"
