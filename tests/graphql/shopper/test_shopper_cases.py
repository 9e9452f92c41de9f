"""Shopper API: own cases only, no internal data, opening cases and writing on them."""

from __future__ import annotations

from saleor_support_plugin.events import Actor
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import Case, CaseSource, CaseStatus, Message
from saleor_support_plugin.services.cases import case_note_add, case_reply
from tests.graphql.conftest import ORDER_A, customer_token, guest_headers, make_case, make_order, shopper_headers

STAFF = Actor.staff(email="staff@example.com")


def _ana(installation):
    return shopper_headers(installation, customer_token(installation, email="ana@example.com", user_id="VXNlcjox"))


def test_shopper_schema_has_no_internal_fields():
    from saleor_support_plugin.graphql.shopper.schema import schema

    sdl = schema.as_str()
    for internal in ("notes", "timeline", "assignee", "Note", "CaseEvent", "authorEmail", "customerHistory", "rule"):
        assert internal not in sdl, internal


def test_my_cases_by_email_or_saleor_user_id(gql, test_installation):
    # given: a case under her current e-mail, one from before she changed it (same Saleor user), and Bob's
    mine = make_case(test_installation, email="ana@example.com")
    old_address = make_case(test_installation, email="ana.old@example.com")
    old_address.customer.saleor_user_id = "VXNlcjox"
    old_address.customer.save(update_fields=["saleor_user_id"])
    make_case(test_installation, email="bob@example.com")
    # when
    result = gql("shopper", "{ myCases { totalCount edges { node { id } } } }", headers=_ana(test_installation))
    # then
    ids = {e["node"]["id"] for e in result.data["myCases"]["edges"]}
    assert ids == {global_id("Case", mine.pk), global_id("Case", old_address.pk)}


def test_case_shows_the_conversation_but_never_notes(gql, test_installation):
    case = make_case(test_installation, email="ana@example.com")
    case_reply(case=case, body="We are on it", actor=STAFF)
    case_note_add(case=case, body="SECRET internal note", actor=STAFF)
    result = gql("shopper", "query($id: ID!) { case(id: $id) { status messages { direction body } } }",
                 {"id": global_id("Case", case.pk)}, _ana(test_installation))  # fmt: skip
    assert result.data["case"]["messages"] == [
        {"direction": "INBOUND", "body": "Hello, where is it?"},
        {"direction": "OUTBOUND", "body": "We are on it"},
    ]
    assert "SECRET" not in str(result.body)


def test_customer_opens_a_case_about_her_order(gql, test_installation):
    make_order(test_installation, saleor_id=ORDER_A, user_email="Ana@Example.com")
    result = gql(
        "shopper",
        'mutation($o: ID!) { caseOpen(input: {subject: "Broken mug", message: "It arrived broken", orderId: $o, '
        "reason: DAMAGED_OR_WRONG_ITEM}) { case { id number reason orderNumber messages { body } } errors { code } } }",
        {"o": ORDER_A},
        _ana(test_installation),
    )
    payload = result.data["caseOpen"]
    assert payload["errors"] == []
    assert payload["case"]["orderNumber"] == "1001" and payload["case"]["reason"] == "DAMAGED_OR_WRONG_ITEM"
    case = Case.objects.get()
    assert (case.source, case.customer.email, case.customer.saleor_user_id) == (
        CaseSource.STOREFRONT, "ana@example.com", "VXNlcjox")  # fmt: skip


def test_customer_cannot_open_a_case_about_someone_elses_order(gql, test_installation):
    make_order(test_installation, saleor_id=ORDER_A, user_email="bob@example.com")
    result = gql("shopper", "mutation($o: ID!) { caseOpen(input: {subject: \"x\", message: \"y\", orderId: $o}) "
                 "{ case { id } errors { field code } } }", {"o": ORDER_A}, _ana(test_installation))  # fmt: skip
    assert result.data["caseOpen"] == {"case": None, "errors": [{"field": "orderId", "code": "NOT_FOUND"}]}
    assert not Case.objects.exists()


def test_case_open_validation_names_the_input_field(gql, test_installation):
    result = gql("shopper", "mutation { caseOpen(input: {subject: \"Hi\", message: \" \"}) { errors { field code } } }",
                 headers=_ana(test_installation))  # fmt: skip
    assert result.data["caseOpen"]["errors"] == [{"field": "message", "code": "REQUIRED"}]


def test_guest_sees_only_the_cases_of_the_proven_order_and_opens_cases_about_it(gql, test_installation):
    # given
    order = make_order(test_installation, saleor_id=ORDER_A, user_email="guest@example.com")
    about_order = make_case(test_installation, email="guest@example.com", order=order)
    make_case(test_installation, email="guest@example.com", subject="Unrelated question")
    headers = guest_headers(test_installation, order_id=ORDER_A, email="Guest@Example.com")
    # when
    listed = gql("shopper", "{ myCases { edges { node { id } } } }", headers=headers)
    opened = gql("shopper", "mutation { caseOpen(input: {subject: \"Late\", message: \"Still waiting\"}) "
                 "{ case { orderId } errors { code } } }", headers=headers)  # fmt: skip
    other_order = gql("shopper", "mutation { caseOpen(input: {subject: \"x\", message: \"y\", orderId: \"T3RoZXI=\"}) "
                      "{ errors { field code } } }", headers=headers)  # fmt: skip
    # then
    assert [e["node"]["id"] for e in listed.data["myCases"]["edges"]] == [global_id("Case", about_order.pk)]
    assert opened.data["caseOpen"] == {"case": {"orderId": ORDER_A}, "errors": []}
    assert other_order.data["caseOpen"]["errors"] == [{"field": "orderId", "code": "NOT_FOUND"}]


def test_guest_proof_with_unknown_order_or_wrong_email_reads_the_same(gql, test_installation):
    make_order(test_installation, saleor_id=ORDER_A, user_email="guest@example.com")
    wrong_email = gql(
        "shopper",
        "{ myCases { totalCount } }",
        headers=guest_headers(test_installation, order_id=ORDER_A, email="eve@example.com"),
    )
    unknown_order = gql(
        "shopper",
        "{ myCases { totalCount } }",
        headers=guest_headers(test_installation, order_id="nope", email="guest@example.com"),
    )
    assert wrong_email.status == unknown_order.status == 401
    assert wrong_email.body == unknown_order.body


def test_message_add_reopens_a_waiting_case(gql, test_installation):
    case = make_case(test_installation, email="ana@example.com")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.PENDING_CUSTOMER)
    result = gql("shopper", "mutation($id: ID!) { caseMessageAdd(caseId: $id, message: \"Here is the photo\") "
                 "{ case { status } message { direction body } errors { code } } }",
                 {"id": global_id("Case", case.pk)}, _ana(test_installation))  # fmt: skip
    payload = result.data["caseMessageAdd"]
    assert payload["message"] == {"direction": "INBOUND", "body": "Here is the photo"}
    assert payload["case"]["status"] == "OPEN"
    assert Message.objects.filter(case=case, channel="storefront").count() == 2


def test_message_on_a_closed_case_is_refused(gql, test_installation):
    case = make_case(test_installation, email="ana@example.com")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    document = 'mutation($id: ID!) { caseMessageAdd(caseId: $id, message: "hello?") { errors { field code } } }'
    result = gql("shopper", document, {"id": global_id("Case", case.pk)}, _ana(test_installation))
    assert result.data["caseMessageAdd"]["errors"] == [{"field": "status", "code": "INVALID"}]
