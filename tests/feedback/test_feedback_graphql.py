"""Surveys on the GraphQL APIs: staff settings, and shoppers answering their own survey from the storefront."""

from __future__ import annotations

from django.utils import timezone

from saleor_support_plugin.models import FeedbackKind, FeedbackRequest
from tests.feedback import builders
from tests.graphql.conftest import customer_token, shopper_headers, staff_headers

SETTINGS = "{ feedbackSettings { csatEnabled csatDelayMinutes npsEnabled npsDelayMinutes } }"
UPDATE = """mutation($input: FeedbackSettingsInput!) {
  feedbackSettingsUpdate(input: $input) {
    settings { csatEnabled csatEnabledAt csatDelayMinutes } errors { field code }
  }
}"""
SUBMIT = """mutation($token: String!, $score: Int!, $comment: String) {
  feedbackSubmit(token: $token, score: $score, comment: $comment) {
    feedback { kind score comment } errors { field code }
  }
}"""


def _survey(installation, email: str = "ana@example.com") -> FeedbackRequest:
    case = builders.case(installation, created_at=timezone.now(), status="resolved")
    return builders.answer(
        installation, FeedbackKind.CSAT, None, answered_at=None, case=case, to_email=email, created_at=timezone.now()
    )


def test_staff_switch_csat_on(gql, test_installation):
    headers = staff_headers(test_installation, permissions=("MANAGE_ORDERS",))

    before = gql("staff", SETTINGS, headers=headers)
    after = gql("staff", UPDATE, {"input": {"csatEnabled": True, "csatDelayMinutes": 30}}, headers)
    bad = gql("staff", UPDATE, {"input": {"npsDelayMinutes": -5}}, headers)

    assert before.data["feedbackSettings"] == {
        "csatEnabled": False, "csatDelayMinutes": 60, "npsEnabled": False, "npsDelayMinutes": 4320
    }  # fmt: skip
    settings = after.data["feedbackSettingsUpdate"]["settings"]
    assert settings["csatEnabled"] is True and settings["csatDelayMinutes"] == 30 and settings["csatEnabledAt"]
    assert bad.data["feedbackSettingsUpdate"]["errors"] == [{"field": "npsDelayMinutes", "code": "INVALID"}]


def test_shopper_answers_their_own_survey(gql, test_installation):
    survey = _survey(test_installation)
    headers = shopper_headers(test_installation, customer_token(test_installation, email="Ana@Example.com"))

    result = gql("shopper", SUBMIT, {"token": survey.token, "score": 5, "comment": "Great"}, headers)

    assert result.data["feedbackSubmit"] == {
        "feedback": {"kind": "CSAT", "score": 5, "comment": "Great"}, "errors": []
    }  # fmt: skip


def test_someone_elses_or_another_shops_survey_is_not_found(gql, test_installation, other_installation):
    mine = _survey(test_installation, email="bob@example.com")
    elsewhere = _survey(other_installation)
    headers = shopper_headers(test_installation, customer_token(test_installation, email="ana@example.com"))

    for token in (mine.token, elsewhere.token):
        result = gql("shopper", SUBMIT, {"token": token, "score": 5}, headers)
        assert result.data["feedbackSubmit"] == {"feedback": None, "errors": [{"field": "token", "code": "NOT_FOUND"}]}
    assert not FeedbackRequest.objects.filter(score__isnull=False).exists()


def test_out_of_range_score_is_a_payload_error(gql, test_installation):
    survey = _survey(test_installation)
    headers = shopper_headers(test_installation, customer_token(test_installation, email="ana@example.com"))

    result = gql("shopper", SUBMIT, {"token": survey.token, "score": 9}, headers)

    assert result.data["feedbackSubmit"]["errors"] == [{"field": "score", "code": "INVALID"}]
