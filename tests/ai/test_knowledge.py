"""Help articles: upkeep, shopper self-service search (multilingual, tenant-scoped), grounding of drafts."""

from __future__ import annotations

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.services.knowledge import (
    knowledge_article_create,
    knowledge_article_update,
    knowledge_search_for_shopper,
)
from saleor_support_plugin.services.macros import MacroChanges, macro_create
from saleor_support_plugin.services.triage import message_triage
from tests.ai.conftest import open_case


@pytest.fixture
def articles(test_installation):
    return [
        knowledge_article_create(
            installation=test_installation,
            title="Returns and refunds",
            body="You can return items within 30 days. Refunds reach your card in 5-10 days.",
            language="en",
            reason="policy_question",
        ),
        knowledge_article_create(
            installation=test_installation,
            title="Shipping times",
            body="Standard shipping takes 3-5 business days; express ships next day.",
            language="en",
        ),
        knowledge_article_create(
            installation=test_installation,
            title="Devoluções e reembolsos",
            body="Você pode devolver os produtos em até 30 dias.",
            language="pt",
        ),
        knowledge_article_create(
            installation=test_installation, title="退款政策", body="收到退货后5个工作日内退款。", language="zh"
        ),
        knowledge_article_create(
            installation=test_installation, title="Draft: secret sale", body="refund sale", is_published=False
        ),
    ]


def test_search_finds_the_answer_in_the_shoppers_language(test_installation, articles):
    assert knowledge_search_for_shopper(installation=test_installation, query="how long do refunds take?")[0].title == (
        "Returns and refunds"
    )
    assert knowledge_search_for_shopper(installation=test_installation, query="express shipping")[0].title == (
        "Shipping times"
    )
    hits = knowledge_search_for_shopper(installation=test_installation, query="prazo para devolver", language="pt")
    assert [h.title for h in hits] == ["Devoluções e reembolsos"]
    assert knowledge_search_for_shopper(installation=test_installation, query="退款要多久")[0].title == "退款政策"


def test_search_never_shows_unpublished_or_other_shops_articles(test_installation, recorded_installation, articles):
    assert all(
        h.title != "Draft: secret sale"
        for h in knowledge_search_for_shopper(installation=test_installation, query="secret sale refund")
    )
    assert knowledge_search_for_shopper(installation=recorded_installation, query="refunds") == []


def test_article_validation_and_update(test_installation):
    with pytest.raises(PermanentError):
        knowledge_article_create(installation=test_installation, title="", body="x")
    with pytest.raises(PermanentError):
        knowledge_article_create(installation=test_installation, title="t", body="x", reason="nope")
    article = knowledge_article_create(installation=test_installation, title="t", body="x")

    knowledge_article_update(article=article, is_published=False, title="New")

    article.refresh_from_db()
    assert (article.title, article.is_published) == ("New", False)


def test_offline_draft_uses_the_macro_in_the_shoppers_language(test_installation):
    for language, body in (
        ("en", "Hi $first_name, here is our return form."),
        ("pt", "Olá $first_name, segue o formulário."),
    ):
        macro_create(
            installation=test_installation,
            changes=MacroChanges(name="Return form", body=body, reason="return_request", language=language),
        )
    case, message = open_case(test_installation, "Quero devolver o tênis, ficou pequeno")

    message_triage(message_id=message.pk)

    assert message.reply_draft.body == "Olá Ana, segue o formulário."
