"""Every GraphQL document we send to Saleor or register with it is valid against Saleor 3.24's schema.

Saleor refuses an invalid subscription at install time (``webhookCreate`` → GRAPHQL_ERROR) and answers an
invalid query with HTTP 400, so a document that does not validate here breaks installs or polling.
"""

from __future__ import annotations

import pytest
from graphql import ListValueNode, ObjectValueNode, parse, validate, visit
from graphql.language import Visitor

from saleor_support_plugin.saleor.documents import all_query_names, load_query
from saleor_support_plugin.webhooks.registry import REGISTRY


def _errors(schema, document: str) -> list[str]:
    return [error.message for error in validate(schema, parse(document))]


def test_there_are_documents_to_check():
    # given the packaged queries and the webhook registry
    # when they are listed
    # then the poll, look-up and install queries and every subscribed event are there
    assert {"AppId", "PollOrders", "PollPaymentFailures", "CheckoutById", "OrderById"} <= set(all_query_names())
    assert len(REGISTRY) == 19  # 17 order/checkout/transaction/app events + CUSTOMER_DELETED, ACCOUNT_DELETED


@pytest.mark.parametrize("name", all_query_names())
def test_outbound_query_is_valid_for_saleor(saleor_schema, name):
    # given one of the queries we send to Saleor, with its fragments appended
    document = load_query(name)

    # when Saleor's schema validates it
    errors = _errors(saleor_schema, document)

    # then Saleor would run it instead of answering HTTP 400
    assert errors == []


@pytest.mark.parametrize("spec", list(REGISTRY.values()), ids=lambda spec: spec.event.value)
def test_webhook_subscription_is_valid_for_saleor(saleor_schema, spec):
    # given the subscription query we register for this event
    document = spec.subscription

    # when Saleor's schema validates it
    errors = _errors(saleor_schema, document)

    # then webhookCreate would accept it at install time
    assert errors == []
    # and it listens to exactly the event the registry routes to it
    assert f"... on {spec.event.value.title().replace('_', '')} " in document


def test_validator_rejects_what_saleor_rejected_in_the_lab(saleor_schema):
    # given the draft subscription Saleor refused in the lab ("Cannot query field "number" on type "Fulfillment"")
    document = """
    subscription FulfillmentCreated {
      event { ... on FulfillmentCreated { fulfillment { id number } } }
    }
    """

    # when it is validated like our real documents
    errors = _errors(saleor_schema, document)

    # then the validator refuses it for the same reason, so the checks above can fail
    assert len(errors) == 1
    assert "Cannot query field 'number' on type 'Fulfillment'" in errors[0]


def test_validator_rejects_checkouts_where_and_wrong_variable_types(saleor_schema):
    # given the two negative controls POLLING.md ran against the same schema
    unknown_argument = "query { checkouts(first: 1, where: {}) { edges { node { id } } } }"
    wrong_type = "query Q($t: DateTime!) { checkouts(first: 1, filter: {updatedAt: {gte: $t}}) { totalCount } }"

    # when they are validated
    # then both are refused, as Saleor refused them
    assert any("Unknown argument 'where'" in e for e in _errors(saleor_schema, unknown_argument))
    assert any("expecting type 'Date'" in e for e in _errors(saleor_schema, wrong_type))


class _EventItems(Visitor):
    """Collect every object literal that sits directly inside an ``events: [...]`` filter list."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[set[str]] = []

    def enter_object_field(self, node, *_args):
        if node.name.value == "events" and isinstance(node.value, ListValueNode):
            for item in node.value.values:
                if isinstance(item, ObjectValueNode):
                    self.items.append({field.name.value for field in item.fields})


def _mixed_event_items(document: str) -> list[set[str]]:
    visitor = _EventItems()
    visit(parse(document), visitor)
    return [item for item in visitor.items if "type" in item and ({"createdAt", "date"} & item)]


@pytest.mark.parametrize("name", all_query_names())
def test_no_events_filter_mixes_a_date_and_a_type(name):
    # given a query (Saleor 3.24 silently drops the date of an `events` item that also has a type
    # whenever no event falls in the range: POLLING.md §5)
    document = load_query(name)

    # when its `events` filter items are inspected
    mixed = _mixed_event_items(document)

    # then no single item holds both, so a poll window never turns into "every failure ever"
    assert mixed == []


def test_mixed_events_item_is_detected():
    # given the single-item form that triggers the Saleor bug
    document = """query Q($since: DateTime!) { transactions(first: 1,
        where: {events: [{createdAt: {gte: $since}, type: {eq: CHARGE_FAILURE}}]}) { totalCount } }"""

    # when it is inspected like our queries
    # then the check above would catch it
    assert _mixed_event_items(document) == [{"createdAt", "type"}]
