"""Every inbound message is queued for triage after commit; replies are not."""

from __future__ import annotations

from saleor_support_plugin.events import Actor
from saleor_support_plugin.services.cases import case_message_receive, case_reply
from saleor_support_plugin.tasks import message_triage_task
from tests.ai.conftest import open_case


def test_inbound_messages_enqueue_triage_after_commit(
    test_installation, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr(message_triage_task, "delay", lambda message_id: queued.append(message_id))

    with django_capture_on_commit_callbacks(execute=True):
        case, first = open_case(test_installation, "Where is my order?")
    with django_capture_on_commit_callbacks(execute=True):
        second = case_message_receive(case=case, body="Any news?", channel="email", author_email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        case_reply(case=case, body="It ships today.", actor=Actor.staff(email="agent@shop.example"))

    assert queued == [first.pk, second.pk]
