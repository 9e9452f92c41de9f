"""Answering a survey: validated per kind, revisable until the link expires, scoped to one installation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.models import CaseEvent, FeedbackEmailStatus, FeedbackKind, FeedbackRequest
from saleor_support_plugin.services.feedback import feedback_answer, feedback_request_csat_create
from tests.feedback import builders
from tests.feedback.conftest import T0, resolved_case

ASKED = T0 + timedelta(hours=3)


@pytest.fixture
def csat(test_installation) -> FeedbackRequest:
    return feedback_request_csat_create(case=resolved_case(test_installation), at=ASKED)


def _answer(request: FeedbackRequest, score, comment="", *, at=ASKED + timedelta(hours=1), installation=None):
    return feedback_answer(
        installation=installation or request.installation, token=request.token, score=score, comment=comment, at=at
    )


def _received(request: FeedbackRequest) -> list[dict]:
    rows = CaseEvent.objects.filter(case=request.case, type="feedback_received").order_by("pk")
    return [row.parameters for row in rows]


def test_first_answer_is_recorded_on_the_request_and_the_timeline(csat):
    # when
    answered = _answer(csat, 4, "  Quick and friendly.  ")

    # then
    assert (answered.score, answered.comment) == (4, "Quick and friendly.")
    assert answered.answered_at == answered.answer_updated_at == ASKED + timedelta(hours=1)
    assert _received(csat) == [{"request_id": csat.pk, "kind": "csat", "score": 4, "changed": False}]
    assert CaseEvent.objects.get(case=csat.case, type="feedback_received").actor_type == "customer"


def test_the_same_answer_twice_changes_nothing(csat):
    _answer(csat, 4, "Quick.")

    again = _answer(csat, 4, "Quick.", at=ASKED + timedelta(hours=2))

    assert again.answer_updated_at == ASKED + timedelta(hours=1)
    assert len(_received(csat)) == 1


def test_a_new_answer_replaces_the_old_one_and_keeps_the_first_answer_time(csat):
    # given the shopper clicked 2 in the e-mail, then wrote a comment and picked 3
    _answer(csat, 2)

    # when
    revised = _answer(csat, 3, "Slow, but solved.", at=ASKED + timedelta(hours=5))

    # then
    assert (revised.score, revised.comment) == (3, "Slow, but solved.")
    assert revised.answered_at == ASKED + timedelta(hours=1)
    assert revised.answer_updated_at == ASKED + timedelta(hours=5)
    assert [p["changed"] for p in _received(csat)] == [False, True]


@pytest.mark.parametrize(("kind", "score"), [("csat", 0), ("csat", 6), ("nps", -1), ("nps", 11), ("csat", True)])
def test_scores_outside_the_kinds_range_are_refused(test_installation, csat, kind, score):
    request = csat if kind == "csat" else builders.answer(test_installation, FeedbackKind.NPS, None, answered_at=None)

    with pytest.raises(PermanentError) as error:
        _answer(request, score, at=request.created_at)

    assert (error.value.code, error.value.field) == ("INVALID", "score")
    assert FeedbackRequest.objects.get(pk=request.pk).score is None


@pytest.mark.parametrize("score", [0, 10])
def test_nps_takes_zero_to_ten(test_installation, score):
    request = builders.answer(test_installation, FeedbackKind.NPS, None, answered_at=None)

    assert _answer(request, score, at=request.created_at).score == score


@pytest.mark.parametrize("comment", ["x" * 2001, "nul \x00 byte"])
def test_unusable_comments_are_refused(csat, comment):
    with pytest.raises(PermanentError) as error:
        _answer(csat, 5, comment)

    assert error.value.field == "comment"


def test_expired_link_is_refused(csat):
    with pytest.raises(PermanentError) as error:
        _answer(csat, 5, at=ASKED + timedelta(days=30, seconds=1))

    assert error.value.code == "TOKEN_EXPIRED"


def test_token_of_another_installation_is_not_found(csat, other_installation):
    with pytest.raises(PermanentError) as error:
        _answer(csat, 5, installation=other_installation)

    assert error.value.code == "NOT_FOUND"
    assert FeedbackRequest.objects.get(pk=csat.pk).score is None


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "../../etc/passwd-0123456789", None])
def test_malformed_tokens_are_not_found(csat, token):
    with pytest.raises(PermanentError) as error:
        feedback_answer(installation=csat.installation, token=token, score=5)

    assert error.value.code == "NOT_FOUND"


def test_cancelled_request_is_not_found(csat):
    FeedbackRequest.objects.filter(pk=csat.pk).update(email_status=FeedbackEmailStatus.CANCELLED)

    with pytest.raises(PermanentError) as error:
        _answer(csat, 5)

    assert error.value.code == "NOT_FOUND"
