"""The shopper-facing survey endpoint: GET shows the form (writes nothing), POST records; every refusal is a 4xx."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_support_plugin.models import FeedbackKind, FeedbackRequest, Installation
from tests.feedback import builders


@pytest.fixture
def survey(test_installation) -> FeedbackRequest:
    case = builders.case(test_installation, created_at=timezone.now(), status="resolved", number=7)
    return builders.answer(
        test_installation, FeedbackKind.CSAT, None, answered_at=None, case=case, language_code="DE",
        created_at=timezone.now(),
    )  # fmt: skip


def _url(request: FeedbackRequest, installation_id: int | None = None) -> str:
    return f"/api/feedback/{installation_id or request.installation_id}/{request.token}"


def _post_json(client, request: FeedbackRequest, body, **kw):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(_url(request, **kw), data=raw, content_type="application/json")


def _error(response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    assert error["message"]
    return response.status_code, error["code"], error["field"]


def test_get_shows_the_form_in_the_shoppers_language_and_records_nothing(client, survey):
    # when
    response = client.get(_url(survey) + "?score=4")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Wie zufrieden sind Sie mit der Hilfe zu Fall #7?" in html
    assert 'value="4" checked' in html and html.count('type="radio"') == 5
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert FeedbackRequest.objects.get(pk=survey.pk).score is None


def test_get_ignores_a_score_outside_the_scale(client, survey):
    html = client.get(_url(survey) + "?score=9").content.decode()

    assert "checked" not in html


def test_json_answer_is_recorded_and_a_second_one_updates_it(client, survey):
    # when
    first = _post_json(client, survey, {"score": 2})
    second = _post_json(client, survey, {"score": "3", "comment": "Took a while, but fine."})

    # then
    assert first.status_code == 200 and first.json()["score"] == 2
    assert second.status_code == 200
    assert second.json() | {"answeredAt": None} == {
        "success": True, "kind": "csat", "score": 3, "comment": "Took a while, but fine.", "answeredAt": None
    }  # fmt: skip
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (3, "Took a while, but fine.")


def test_form_answer_gets_a_thank_you_page(client, survey):
    response = client.post(_url(survey), data={"score": "5", "comment": "<b>Great</b>"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Vielen Dank für Ihr Feedback!" in html
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (5, "<b>Great</b>")


def test_malformed_form_data_is_a_400(client, survey):
    response = client.post(_url(survey), data=b"garbage", content_type="multipart/form-data")

    assert response.status_code == 400
    assert "The form data is malformed." in response.content.decode()


def test_form_without_a_score_shows_the_form_again_with_the_reason(client, survey):
    response = client.post(_url(survey), data={"comment": "<script>x</script>"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "A score is required." in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{not json", (400, "INVALID", None)),
        ([5], (400, "INVALID", None)),
        ({}, (400, "REQUIRED", "score")),
        ({"score": None}, (400, "REQUIRED", "score")),
        ({"score": "five"}, (400, "INVALID", "score")),
        ({"score": 4.5}, (400, "INVALID", "score")),
        ({"score": True}, (400, "INVALID", "score")),
        ({"score": 6}, (400, "INVALID", "score")),
        ({"score": "99999999999999999999"}, (400, "INVALID", "score")),
        ({"score": 5, "comment": 12}, (400, "INVALID", "comment")),
        ({"score": 5, "comment": "x" * 2001}, (400, "INVALID", "comment")),
        ({"score": 5, "comment": "a\u0000b"}, (400, "INVALID", "comment")),
    ],
)
def test_bad_input_is_a_400_with_the_reason(client, survey, body, expected):
    assert _error(_post_json(client, survey, body)) == expected
    assert FeedbackRequest.objects.get(pk=survey.pk).score is None


def test_token_of_another_installation_is_a_404(client, survey, other_installation):
    # given a survey link of this shop presented under the other shop's id
    response = _post_json(client, survey, {"score": 5}, installation_id=other_installation.pk)

    assert _error(response) == (404, "NOT_FOUND", "token")
    assert client.get(_url(survey, installation_id=other_installation.pk)).status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/feedback/1/unknown-token-0123456789", "/api/feedback/99999999999999999999999/x"]
)
def test_unknown_links_are_404(client, survey, path):
    assert client.post(path, data="{}", content_type="application/json").status_code == 404
    assert client.get(path).status_code == 404


def test_links_of_an_uninstalled_shop_are_404(client, survey):
    Installation.objects.filter(pk=survey.installation_id).update(is_active=False)

    assert _error(_post_json(client, survey, {"score": 5}))[0] == 404


def test_expired_survey_is_410(client, survey):
    FeedbackRequest.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _error(_post_json(client, survey, {"score": 5})) == (410, "TOKEN_EXPIRED", "token")
    page = client.get(_url(survey))
    assert page.status_code == 410 and "Diese Umfrage ist geschlossen." in page.content.decode()
    assert client.post(_url(survey), data={"score": "5"}).status_code == 410


def test_wrong_method_type_and_size_are_refused(client, survey):
    assert client.put(_url(survey), data="{}", content_type="application/json").status_code == 405
    assert _error(client.post(_url(survey), data="score=5", content_type="text/plain"))[:2] == (415, "INVALID")
    big = json.dumps({"score": 5, "comment": "x" * 20_000})
    assert _error(_post_json(client, survey, big))[:2] == (413, "PAYLOAD_TOO_LARGE")
