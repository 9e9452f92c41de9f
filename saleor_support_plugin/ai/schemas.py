"""Typed shapes at the AI boundary: what triage produces and what the model must return (validated here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The case-reason taxonomy (models.cases.CaseReason); a test keeps the two identical. Repeated here so the
# offline engine and the CLI can be imported without Django's app registry.
INTENTS: tuple[str, ...] = (
    "order_status", "delivery_delay", "delivery_options", "shipping_address", "cancel_order", "change_order",
    "purchase_help", "return_request", "exchange_request", "refund_request", "refund_status", "policy_question",
    "payment_issue", "payment_methods", "invoice", "account", "damaged_or_wrong_item", "product_question",
    "complaint", "feedback", "contact_human", "other",
)  # fmt: skip
Intent = Literal[
    "order_status", "delivery_delay", "delivery_options", "shipping_address", "cancel_order", "change_order",
    "purchase_help", "return_request", "exchange_request", "refund_request", "refund_status", "policy_question",
    "payment_issue", "payment_methods", "invoice", "account", "damaged_or_wrong_item", "product_question",
    "complaint", "feedback", "contact_human", "other",
]  # fmt: skip
Urgency = Literal["low", "normal", "high"]
# Money moves stay with staff: autopilot never answers these, whatever the confidence (issue §4).
MONEY_INTENTS = frozenset(
    {"cancel_order", "change_order", "return_request", "exchange_request", "refund_request", "refund_status",
     "payment_issue", "damaged_or_wrong_item"}
)  # fmt: skip
BCP47 = r"^(?:[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*|und)$"


class Triage(BaseModel):
    model_config = ConfigDict(frozen=True)

    intent: Intent
    sentiment: int = Field(ge=-2, le=2)
    urgency: Urgency
    language: str = Field(pattern=BCP47, max_length=16)
    confidence: float = Field(ge=0.0, le=1.0)


class LlmTriageDraft(BaseModel):
    """The one structured answer per inbound message (schema sent with the prompt: triage_draft.schema.json)."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    sentiment: int = Field(ge=-2, le=2)
    urgency: Urgency
    language: str = Field(max_length=16)
    confidence: float = Field(ge=0.0, le=1.0)
    reply: str = Field(min_length=1, max_length=4000)
    citations: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        tag = value.strip().replace("_", "-")
        primary, _, rest = tag.partition("-")
        tag = primary.lower() + ("-" + rest if rest else "")
        Triage.model_validate({"intent": "other", "sentiment": 0, "urgency": "low", "language": tag, "confidence": 0})
        return tag

    def triage(self) -> Triage:
        return Triage(
            intent=self.intent,
            sentiment=self.sentiment,
            urgency=self.urgency,
            language=self.language,
            confidence=self.confidence,
        )
