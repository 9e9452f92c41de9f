"""Shopper: answer a survey from the storefront. The survey must have been sent to the caller's address.

(The e-mail's own link answers through ``/api/feedback/…`` without a login; see ``http/feedback_views.py``.)
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import Info
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list
from saleor_support_plugin.graphql.permissions import shopper_required
from saleor_support_plugin.models import FeedbackKind, FeedbackRequest
from saleor_support_plugin.services.feedback import feedback_answer

FeedbackKindEnum = strawberry.enum(
    Enum("FeedbackKind", {member.name: member.value for member in FeedbackKind}),  # type: ignore[misc]
    name="FeedbackKind",
    description="CSAT (1–5, about a resolved case) or NPS (0–10, after a delivery).",
)


@strawberry.type(name="Feedback", description="Your answer to a survey.")
class FeedbackType:
    kind: FeedbackKindEnum  # type: ignore[valid-type]
    score: int | None
    comment: str
    answered_at: datetime | None

    @classmethod
    def of(cls, row: FeedbackRequest) -> FeedbackType:
        return cls(kind=row.kind, score=row.score, comment=row.comment, answered_at=row.answered_at)


@strawberry.type(name="FeedbackSubmit")
class FeedbackSubmitPayload:
    feedback: FeedbackType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=shopper_required(),
        description="Answer (or change your answer to) the survey behind the token from its e-mail.",
    )
    def feedback_submit(self, info: Info, token: str, score: int, comment: str | None = None) -> FeedbackSubmitPayload:
        shopper = info.context.get_shopper()
        try:
            row = feedback_answer(
                installation=shopper.installation,
                token=token,
                score=score,
                comment=comment,
                respondent_email=shopper.email,
            )
        except SupportError as exc:
            return FeedbackSubmitPayload(errors=error_list(exc))
        return FeedbackSubmitPayload(feedback=FeedbackType.of(row))
