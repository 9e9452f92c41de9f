"""Macros CRUD and preview: tenant-scoped, unique per name and language, variables filled from the case."""

from __future__ import annotations

import pytest

from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import Customer, Macro
from tests.graphql.conftest import make_case, make_order, staff_headers

MACRO = "{ macro { id name body reason language isActive } errors { field code message } }"


@pytest.fixture
def staff(gql, test_installation):
    headers = staff_headers(test_installation, email="agent@example.com")
    return lambda document, variables=None: gql("staff", document, variables or {}, headers)


def test_create_update_list_delete(staff, test_installation, other_installation):
    # given
    Macro.objects.create(installation=other_installation, name="Foreign", body="not yours")
    # when
    created = staff("mutation { macroCreate(input: {name: \"Where is it\", body: \"Order $order_number ships soon\", "
                    "reason: ORDER_STATUS, language: \"en\"}) " + MACRO + " }").data["macroCreate"]  # fmt: skip
    macro_id = created["macro"]["id"]
    updated = staff("mutation($id: ID!) { macroUpdate(id: $id, input: {isActive: false, clearReason: true}) " + MACRO
                    + " }", {"id": macro_id}).data["macroUpdate"]  # fmt: skip
    listed = staff("{ macros { name isActive } }").data["macros"]
    active = staff("{ macros(filter: {isActive: true}) { name } }").data["macros"]
    deleted = staff("mutation($id: ID!) { macroDelete(id: $id) { deletedId errors { code } } }", {"id": macro_id})
    # then
    assert created["errors"] == [] and created["macro"]["reason"] == "ORDER_STATUS"
    assert updated["macro"]["isActive"] is False and updated["macro"]["reason"] is None
    assert updated["macro"]["body"] == "Order $order_number ships soon"
    assert listed == [{"name": "Where is it", "isActive": False}]
    assert active == []
    assert deleted.data["macroDelete"] == {"deletedId": macro_id, "errors": []}
    assert not Macro.objects.filter(installation=test_installation).exists()


@pytest.mark.parametrize(
    ("input_", "error"),
    [
        ('{name: "", body: "x"}', {"field": "name", "code": "REQUIRED"}),
        ('{name: "x"}', {"field": "body", "code": "REQUIRED"}),
        ('{name: "x", body: "y", language: "english please"}', {"field": "language", "code": "INVALID"}),
    ],
)
def test_invalid_input_is_a_payload_error(staff, input_, error):
    result = staff("mutation { macroCreate(input: " + input_ + ") { macro { id } errors { field code } } }")
    assert result.data["macroCreate"] == {"macro": None, "errors": [error]}


def test_same_name_and_language_is_duplicate(staff):
    document = 'mutation { macroCreate(input: {name: "Thanks", body: "Thank you"}) { errors { field code } } }'
    assert staff(document).data["macroCreate"]["errors"] == []
    assert staff(document).data["macroCreate"]["errors"] == [{"field": "name", "code": "DUPLICATE"}]


def test_preview_fills_variables_from_the_case_and_reports_gaps(staff, test_installation):
    # given
    case = make_case(test_installation, order=make_order(test_installation, number="1001"))
    Customer.objects.filter(pk=case.customer_id).update(name="Ana")
    macro = Macro.objects.create(
        installation=test_installation,
        name="Status",
        body="Hi $customer_name, order ${order_number} costs $$5 to track ($tracking_number). $agent_email $bogus",
    )
    # when
    result = staff(
        "query($c: ID!, $m: ID!) { macroPreview(caseId: $c, macroId: $m) { body unknownVariables missingValues } }",
        {"c": global_id("Case", case.pk), "m": global_id("Macro", macro.pk)},
    )
    draft = staff("query($c: ID!) { macroPreview(caseId: $c, body: \"Case $case_number\") { body } }",
                  {"c": global_id("Case", case.pk)})  # fmt: skip
    # then
    assert result.data["macroPreview"] == {
        "body": "Hi Ana, order 1001 costs $5 to track ($tracking_number). agent@example.com $bogus",
        "unknownVariables": ["bogus"],
        "missingValues": ["tracking_number"],
    }
    assert draft.data["macroPreview"]["body"] == f"Case {case.number}"


def test_preview_knows_every_variable_a_draft_uses(staff, test_installation):
    # given a macro written with the names the AI drafts fill ($first_name, $items, …)
    case = make_case(test_installation, order=make_order(test_installation, number="1001"))
    Customer.objects.filter(pk=case.customer_id).update(name="Ana Lima")
    body = "Hi $first_name, order $order_number ($items), refunded: $refunded_total, tracking: $tracking_numbers"
    # when staff preview it
    result = staff(
        "query($c: ID!, $b: String!) { macroPreview(caseId: $c, body: $b) { body unknownVariables missingValues } }",
        {"c": global_id("Case", case.pk), "b": body},
    )
    # then every name is known; what this order lacks is reported missing, not unknown
    preview = result.data["macroPreview"]
    assert preview["unknownVariables"] == []
    assert preview["body"].startswith("Hi Ana, order 1001 (")
    assert set(preview["missingValues"]) <= {"items", "refunded_total", "tracking_numbers"}
    assert set(preview["missingValues"]) >= {"refunded_total", "tracking_numbers"}


def test_foreign_macro_is_not_found(staff, other_installation):
    foreign = Macro.objects.create(installation=other_installation, name="Foreign", body="x")
    result = staff("mutation($id: ID!) { macroUpdate(id: $id, input: {name: \"Mine\"}) " + MACRO + " }",
                   {"id": global_id("Macro", foreign.pk)})  # fmt: skip
    assert result.data["macroUpdate"]["errors"][0]["code"] == "NOT_FOUND"
    foreign.refresh_from_db()
    assert foreign.name == "Foreign"
