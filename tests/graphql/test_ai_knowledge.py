"""Help articles: staff CRUD scoped to the installation, and the shoppers' self-service search."""

from __future__ import annotations

import pytest

from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import KnowledgeArticle, Macro
from tests.graphql.conftest import (
    ORDER_A,
    customer_token,
    guest_headers,
    make_order,
    shopper_headers,
    staff_headers,
)

ARTICLE = "{ article { id title body language reason isPublished } errors { field code message } }"


@pytest.fixture
def staff(gql, test_installation):
    headers = staff_headers(test_installation, permissions=("MANAGE_ORDERS",))
    return lambda document, variables=None: gql("staff", document, variables or {}, headers)


def test_create_update_list_delete(staff, test_installation):
    # when
    created = staff('mutation { knowledgeArticleCreate(input: {title: "Shipping times", body: "We ship in 2 days.", '
                    'reason: DELIVERY_OPTIONS, language: "en"}) ' + ARTICLE + " }")  # fmt: skip
    created = created.data["knowledgeArticleCreate"]
    article_id = created["article"]["id"]
    updated = staff("mutation($id: ID!) { knowledgeArticleUpdate(id: $id, input: {isPublished: false, "
                    "clearReason: true}) " + ARTICLE + " }", {"id": article_id})  # fmt: skip
    updated = updated.data["knowledgeArticleUpdate"]
    listed = staff("{ knowledgeArticles { title isPublished } }").data["knowledgeArticles"]
    published = staff("{ knowledgeArticles(filter: {isPublished: true}) { title } }").data["knowledgeArticles"]
    deleted = staff("mutation($id: ID!) { knowledgeArticleDelete(id: $id) { deletedId errors { code } } }",
                    {"id": article_id}).data["knowledgeArticleDelete"]  # fmt: skip
    # then
    assert created["errors"] == [] and created["article"]["reason"] == "DELIVERY_OPTIONS"
    assert updated["errors"] == [] and updated["article"]["isPublished"] is False
    assert updated["article"]["reason"] is None and updated["article"]["body"] == "We ship in 2 days."
    assert listed == [{"title": "Shipping times", "isPublished": False}]
    assert published == []
    assert deleted == {"deletedId": article_id, "errors": []}
    assert not KnowledgeArticle.objects.filter(installation=test_installation).exists()


def test_another_installations_article_is_not_found(staff, other_installation):
    # given
    foreign = KnowledgeArticle.objects.create(installation=other_installation, title="Theirs", body="Not yours")
    foreign_id = global_id("KnowledgeArticle", foreign.pk)
    # when
    updated = staff("mutation($id: ID!) { knowledgeArticleUpdate(id: $id, input: {title: \"Mine\"}) " + ARTICLE
                    + " }", {"id": foreign_id}).data["knowledgeArticleUpdate"]  # fmt: skip
    deleted = staff("mutation($id: ID!) { knowledgeArticleDelete(id: $id) { deletedId errors { field code } } }",
                    {"id": foreign_id}).data["knowledgeArticleDelete"]  # fmt: skip
    wrong_type = staff("mutation($id: ID!) { knowledgeArticleDelete(id: $id) { errors { code } } }",
                       {"id": global_id("Macro", foreign.pk)}).data["knowledgeArticleDelete"]  # fmt: skip
    listed = staff("{ knowledgeArticles { id } }").data["knowledgeArticles"]
    # then
    assert updated["article"] is None and [e["code"] for e in updated["errors"]] == ["NOT_FOUND"]
    assert deleted == {"deletedId": None, "errors": [{"field": "id", "code": "NOT_FOUND"}]}
    assert wrong_type["errors"] == [{"code": "NOT_FOUND"}]
    assert listed == []
    foreign.refresh_from_db()
    assert foreign.title == "Theirs"


@pytest.mark.parametrize(
    ("input_", "error"),
    [
        ('{title: "", body: "x"}', {"field": "title", "code": "REQUIRED"}),
        ('{title: "x"}', {"field": "body", "code": "REQUIRED"}),
        ('{title: "x", body: "y", language: "english please"}', {"field": "language", "code": "INVALID"}),
    ],
)
def test_invalid_article_is_a_payload_error(staff, input_, error):
    result = staff(
        "mutation { knowledgeArticleCreate(input: " + input_ + ") { article { id } errors { field code } } }"
    )
    assert result.data["knowledgeArticleCreate"] == {"article": None, "errors": [error]}


SEARCH = "query($q: String!, $lang: String) { helpSearch(query: $q, language: $lang) { id title snippet score } }"


@pytest.fixture
def articles(test_installation, other_installation):
    def add(installation, title, body, **kw):
        return KnowledgeArticle.objects.create(installation=installation, title=title, body=body, **kw)

    return {
        "returns": add(test_installation, "How to return an item", "Returns are free within 30 days of delivery."),
        "shipping": add(test_installation, "Shipping times", "Orders ship within 2 business days.", language="en"),
        "envios": add(test_installation, "Prazos de envio", "Os pedidos são enviados em 2 dias.", language="pt"),
        "draft": add(test_installation, "Return labels (draft)", "Return label printing", is_published=False),
        "foreign": add(other_installation, "Return policy elsewhere", "Return anything, any time."),
    }


def test_help_search_finds_the_right_published_article_of_this_shop(gql, test_installation, articles):
    # given
    Macro.objects.create(installation=test_installation, name="Return macro", body="Internal: return label steps")
    headers = shopper_headers(test_installation, customer_token(test_installation, email="ana@example.com"))
    # when
    result = gql("shopper", SEARCH, {"q": "how do I return an item?"}, headers)
    # then
    hits = result.data["helpSearch"]
    assert not result.errors
    assert hits[0]["id"] == global_id("KnowledgeArticle", articles["returns"].pk)
    returned = {h["id"] for h in hits}
    assert global_id("KnowledgeArticle", articles["draft"].pk) not in returned
    assert global_id("KnowledgeArticle", articles["foreign"].pk) not in returned
    assert all(h["title"] != "Return macro" for h in hits)


def test_help_search_for_a_guest_with_proof_and_by_language(gql, test_installation, articles):
    make_order(test_installation, saleor_id=ORDER_A, user_email="ana@example.com")
    headers = guest_headers(test_installation, order_id=ORDER_A, email="ana@example.com")
    result = gql("shopper", SEARCH, {"q": "envio pedidos", "lang": "pt-BR"}, headers)
    ids = [h["id"] for h in result.data["helpSearch"]]
    assert ids == [global_id("KnowledgeArticle", articles["envios"].pk)]


def test_help_search_with_an_empty_query_is_empty_and_needs_a_caller(gql, test_installation, articles):
    headers = shopper_headers(test_installation, customer_token(test_installation, email="ana@example.com"))
    assert gql("shopper", SEARCH, {"q": "   "}, headers).data["helpSearch"] == []
    anonymous = gql("shopper", SEARCH, {"q": "return"}, {"HTTP_SALEOR_API_URL": test_installation.saleor_api_url})
    assert anonymous.status == 401
