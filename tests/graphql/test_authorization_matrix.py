"""Every query and mutation × every kind of caller, with the expected outcome of each cell.

The world: installation A (a FakeSaleor signing with the test key) with shopper Ana's case about her order,
her second case, and Bob's case about his order; installation B (another FakeSaleor with its own key) with
a case of its own. Each cell runs against a fresh world, so mutations cannot leak into other cells.

Outcomes:
- ``401:<code>``: HTTP 401, no data, that ``extensions.code``; no resolver ran.
- ``FORBIDDEN``: HTTP 200, the field is null with a FORBIDDEN error (missing Saleor permission).
- ``OK``: HTTP 200, no errors, the operation did its job (checked per operation).
- ``HIDDEN``: HTTP 200, no errors, and the target simply is not there (null, NOT_FOUND payload error,
  or a list without it): never a hint that it exists elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from saleor_support_plugin.events import Actor
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import Case, CaseStatus, Installation, Macro
from saleor_support_plugin.services.cases import case_tag_add
from tests.conftest import make_installation
from tests.graphql.conftest import (
    ORDER_A,
    OTHER_APP_ID,
    OTHER_KID,
    customer_token,
    dashboard_token,
    guest_headers,
    make_case,
    make_order,
    other_key,
    saleor_order,
    shopper_headers,
    staff_headers,
)
from tests.fixtures.signing import test_jwks as signing_jwks

ORDER_BOB = "T3JkZXI6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMGJi"
ANA, BOB = "ana@example.com", "bob@example.com"


@dataclass
class World:
    a: Installation
    b: Installation
    case_ana: Case
    case_ana_2: Case
    case_bob: Case
    case_other: Case
    macro: Macro

    def gid(self, case: Case) -> str:
        return global_id("Case", case.pk)


@pytest.fixture
def world(db, fake_saleor_pair) -> World:
    fake_a, fake_b = fake_saleor_pair
    a = make_installation(api_url=fake_a.api_url, app_id="QXBwOjc=", jwks=signing_jwks(), token="token-a")
    b = make_installation(api_url=fake_b.api_url, app_id=OTHER_APP_ID, jwks=other_key()[1], token="token-b")
    fake_a.add_app("token-a", a.app_id)
    fake_b.add_app("token-b", b.app_id)
    fake_a.put_order(saleor_order(order_id=ORDER_A, email=ANA))
    order_ana = make_order(a, saleor_id=ORDER_A, user_email=ANA)
    order_bob = make_order(a, saleor_id=ORDER_BOB, number="1002", user_email=BOB)
    case_ana = make_case(a, email=ANA, order=order_ana)
    case_tag_add(case=case_ana, tag="vip", actor=Actor.staff(email="staff@example.com"))
    return World(
        a=a,
        b=b,
        case_ana=case_ana,
        case_ana_2=make_case(a, email=ANA, subject="Second question"),
        case_bob=make_case(a, email=BOB, order=order_bob),
        case_other=make_case(b, email=ANA, subject="Case at another shop"),
        macro=Macro.objects.create(installation=a, name="Where is it", body="Hi $customer_email, order $order_number"),
    )


# --- callers ------------------------------------------------------------------------------------------

Headers = Callable[[World, str], dict]


def _no_token(w: World, schema: str) -> dict:
    return {"HTTP_SALEOR_API_URL": w.a.saleor_api_url}


def _shopper(email: str, user_id: str) -> Headers:
    return lambda w, schema: shopper_headers(w.a, customer_token(w.a, email=email, user_id=user_id))


def _guest(email: str) -> Headers:
    return lambda w, schema: guest_headers(w.a, order_id=ORDER_A, email=email)


def _staff(permissions: tuple[str, ...]) -> Headers:
    return lambda w, schema: staff_headers(w.a, dashboard_token(w.a, permissions=permissions))


def _other_installation(w: World, schema: str) -> dict:
    key = other_key()[0]
    if schema == "staff":
        return staff_headers(w.b, dashboard_token(w.b, key=key, kid=OTHER_KID))
    return shopper_headers(w.b, customer_token(w.b, email=ANA, key=key, kid=OTHER_KID))


def _expired(w: World, schema: str) -> dict:
    if schema == "staff":
        return staff_headers(w.a, dashboard_token(w.a, expires_in=-120))
    return shopper_headers(w.a, customer_token(w.a, email=ANA, expires_in=-120))


def _wrong_issuer(w: World, schema: str) -> dict:
    evil = {"iss": "https://evil.example.com/graphql/"}
    if schema == "staff":
        return staff_headers(w.a, dashboard_token(w.a, **evil))
    return shopper_headers(w.a, customer_token(w.a, email=ANA, **evil))


CALLERS: dict[str, Headers] = {
    "no_token": _no_token,
    "shopper_a": _shopper(ANA, "VXNlcjox"),
    "shopper_b": _shopper(BOB, "VXNlcjoy"),
    "guest_with_proof": _guest("ANA@Example.com"),
    "guest_without_proof": _guest("mallory@example.com"),
    "staff_without_manage_orders": _staff(("MANAGE_USERS", "HANDLE_PAYMENTS")),
    "staff": _staff(("MANAGE_ORDERS",)),
    "other_installation": _other_installation,
    "expired": _expired,
    "wrong_issuer": _wrong_issuer,
}


# --- operations ---------------------------------------------------------------------------------------


@dataclass
class Op:
    schema: str
    field: str
    document: str
    variables: Callable[[World], dict]
    ok: Callable[[World, dict], bool]
    # How "HIDDEN" looks for this operation: "null", "not_found" (payload) or "list" (target absent).
    hidden: str


def _payload_ok(key: str) -> Callable[[World, dict], bool]:
    return lambda w, value: value["errors"] == [] and value[key] is not None


def _lists(case_attr: str, *absent: str) -> Callable[[World, dict], bool]:
    def check(w: World, value: dict) -> bool:
        ids = {e["node"]["id"] for e in value["edges"]}
        return w.gid(getattr(w, case_attr)) in ids and not any(w.gid(getattr(w, a)) in ids for a in absent)

    return check


CASE_FIELDS = "{ case { id } errors { field code message } }"
STAFF_OPS: dict[str, Op] = {
    "cases": Op("staff", "cases", "{ cases(first: 50) { edges { node { id } } } }", lambda w: {},
                _lists("case_ana", "case_other"), "list"),
    "case": Op("staff", "case", "query($id: ID!) { case(id: $id) { id notes { id } timeline { type } } }",
               lambda w: {"id": w.gid(w.case_ana)}, lambda w, v: v["id"] == w.gid(w.case_ana), "null"),
    "caseReply": Op("staff", "caseReply", "mutation($id: ID!) { caseReply(id: $id, body: \"On its way\") "
                    "{ case { id } message { id } errors { code } } }",
                    lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("message"), "not_found"),
    "caseNoteAdd": Op("staff", "caseNoteAdd", "mutation($id: ID!) { caseNoteAdd(id: $id, body: \"VIP\") "
                      "{ case { id } note { id } errors { code } } }",
                      lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("note"), "not_found"),
    "caseAssign": Op("staff", "caseAssign", "mutation($id: ID!) { caseAssign(id: $id, userId: \"VXNlcjox\", "
                     "email: \"staff@example.com\") " + CASE_FIELDS + " }",
                     lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("case"), "not_found"),
    "caseStatusSet": Op("staff", "caseStatusSet", "mutation($id: ID!) { caseStatusSet(id: $id, status: OPEN) "
                        + CASE_FIELDS + " }", lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("case"), "not_found"),
    "casePrioritySet": Op("staff", "casePrioritySet", "mutation($id: ID!) { casePrioritySet(id: $id, priority: HIGH) "
                          + CASE_FIELDS + " }", lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("case"), "not_found"),
    "caseTagAdd": Op("staff", "caseTagAdd", "mutation($id: ID!) { caseTagAdd(id: $id, tag: \"late\") "
                     + CASE_FIELDS + " }", lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("case"), "not_found"),
    "caseTagRemove": Op("staff", "caseTagRemove", "mutation($id: ID!) { caseTagRemove(id: $id, tag: \"vip\") "
                        + CASE_FIELDS + " }", lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("case"), "not_found"),
    "caseMerge": Op("staff", "caseMerge", "mutation($id: ID!, $into: ID!) { caseMerge(id: $id, intoId: $into) "
                    + CASE_FIELDS + " }", lambda w: {"id": w.gid(w.case_ana_2), "into": w.gid(w.case_ana)},
                    _payload_ok("case"), "not_found"),
    "caseOpenFromOrder": Op("staff", "caseOpenFromOrder", "mutation($order: ID!) { caseOpenFromOrder(input: "
                            "{orderId: $order, subject: \"Call back\"}) " + CASE_FIELDS + " }",
                            lambda w: {"order": ORDER_A}, _payload_ok("case"), "not_found"),
    "orderRefresh": Op("staff", "orderRefresh", "mutation($order: ID!) { orderRefresh(id: $order) "
                       "{ order { id number } errors { code } } }", lambda w: {"order": ORDER_A},
                       _payload_ok("order"), "not_found"),
    "macros": Op("staff", "macros", "{ macros { id name } }", lambda w: {},
                 lambda w, v: [x["id"] for x in v] == [global_id("Macro", w.macro.pk)], "empty"),
    "macroPreview": Op("staff", "macroPreview", "query($case: ID!, $macro: ID!) { macroPreview(caseId: $case, "
                       "macroId: $macro) { body missingValues } }",
                       lambda w: {"case": w.gid(w.case_ana), "macro": global_id("Macro", w.macro.pk)},
                       lambda w, v: v["body"] == "Hi ana@example.com, order 1001", "error:NOT_FOUND"),
    "macroCreate": Op("staff", "macroCreate", "mutation { macroCreate(input: {name: \"Thanks\", body: \"Thank you!\"}) "
                      "{ macro { id } errors { code } } }", lambda w: {}, _payload_ok("macro"), "not_found"),
    "macroUpdate": Op("staff", "macroUpdate", "mutation($id: ID!) { macroUpdate(id: $id, input: {isActive: false}) "
                      "{ macro { id isActive } errors { code } } }",
                      lambda w: {"id": global_id("Macro", w.macro.pk)}, _payload_ok("macro"), "not_found"),
    "macroDelete": Op("staff", "macroDelete", "mutation($id: ID!) { macroDelete(id: $id) { deletedId errors { code } } }",
                      lambda w: {"id": global_id("Macro", w.macro.pk)}, _payload_ok("deletedId"), "not_found"),
}  # fmt: skip

SHOPPER_OPS: dict[str, Op] = {
    "myCases": Op("shopper", "myCases", "{ myCases(first: 50) { edges { node { id } } } }", lambda w: {},
                  _lists("case_ana", "case_bob", "case_other"), "list"),
    "case": Op("shopper", "case", "query($id: ID!) { case(id: $id) { id messages { body } } }",
               lambda w: {"id": w.gid(w.case_ana)}, lambda w, v: v["id"] == w.gid(w.case_ana), "null"),
    "caseOpen": Op("shopper", "caseOpen", "mutation($order: ID!) { caseOpen(input: {subject: \"Broken\", "
                   "message: \"It arrived broken\", orderId: $order}) " + CASE_FIELDS + " }",
                   lambda w: {"order": ORDER_A}, _payload_ok("case"), "not_found"),
    "caseMessageAdd": Op("shopper", "caseMessageAdd", "mutation($id: ID!) { caseMessageAdd(caseId: $id, "
                         "message: \"Any news?\") { case { id } message { id } errors { code } } }",
                         lambda w: {"id": w.gid(w.case_ana)}, _payload_ok("message"), "not_found"),
}  # fmt: skip

UNAUTH = "401:UNAUTHORIZED"
BAD_TOKEN = "401:INVALID_TOKEN"
EXPIRED = "401:TOKEN_EXPIRED"


def _staff_expected(op: str) -> dict[str, str]:
    # Creating a macro in one's own installation is fine for staff of any installation.
    other = "OK" if op == "macroCreate" else "HIDDEN"
    return {
        "no_token": UNAUTH,
        "shopper_a": BAD_TOKEN,  # a customer token is not a Dashboard token (type "access")
        "shopper_b": BAD_TOKEN,
        "guest_with_proof": UNAUTH,  # guest proofs mean nothing to the staff API
        "guest_without_proof": UNAUTH,
        "staff_without_manage_orders": "FORBIDDEN",
        "staff": "OK",
        "other_installation": other,
        "expired": EXPIRED,
        "wrong_issuer": BAD_TOKEN,
    }


def _shopper_expected(op: str) -> dict[str, str]:
    return {
        "no_token": UNAUTH,
        "shopper_a": "OK",
        "shopper_b": "HIDDEN",
        "guest_with_proof": "OK",
        "guest_without_proof": UNAUTH,
        "staff_without_manage_orders": BAD_TOKEN,  # a Dashboard token is not a customer token
        "staff": BAD_TOKEN,
        "other_installation": "HIDDEN",
        "expired": EXPIRED,
        "wrong_issuer": BAD_TOKEN,
    }


MATRIX = [
    pytest.param(op, caller, expected, id=f"{op.schema}.{name}-{caller}")
    for ops, expectations in ((STAFF_OPS, _staff_expected), (SHOPPER_OPS, _shopper_expected))
    for name, op in ops.items()
    for caller, expected in expectations(name).items()
]


def test_matrix_covers_every_operation_of_both_schemas():
    from saleor_support_plugin.graphql.shopper.schema import schema as shopper_schema
    from saleor_support_plugin.graphql.staff.schema import schema as staff_schema

    for schema, ops in ((staff_schema, STAFF_OPS), (shopper_schema, SHOPPER_OPS)):
        graphql_schema = schema._schema
        fields = set(graphql_schema.query_type.fields) | set(graphql_schema.mutation_type.fields)
        assert fields == {op.field for op in ops.values()}, fields ^ {op.field for op in ops.values()}
    assert set(CALLERS) == {p.values[1] for p in MATRIX}


def _assert_hidden(op: Op, world: World, caller: str, value: dict | list | None) -> None:
    if op.hidden == "empty":
        assert value == []
    elif op.hidden == "null":
        assert value is None
    elif op.hidden == "not_found":
        assert [e["code"] for e in value["errors"]] == ["NOT_FOUND"], value
    else:
        ids = {e["node"]["id"] for e in value["edges"]}
        own = {"shopper_b": world.case_bob, "other_installation": world.case_other}[caller]
        assert world.gid(own) in ids and world.gid(world.case_ana) not in ids, ids


@pytest.mark.parametrize(("op", "caller", "expected"), MATRIX)
def test_authorization_matrix(gql, world, op: Op, caller: str, expected: str):
    # given
    headers = CALLERS[caller](world, op.schema)
    # when
    result = gql(op.schema, op.document, op.variables(world), headers)
    # then
    if expected.startswith("401:"):
        assert result.status == 401, result.body
        assert result.data is None
        assert result.error_codes == [expected.removeprefix("401:")], result.body
        return
    assert result.status == 200, result.body
    if expected == "FORBIDDEN":
        assert result.error_codes == ["FORBIDDEN"], result.body
        assert result.data is None or result.data.get(op.field) is None
        return
    if expected == "HIDDEN" and op.hidden.startswith("error:"):
        assert result.error_codes == [op.hidden.removeprefix("error:")], result.body
        assert result.data is None
        return
    assert not result.errors, result.errors
    value = result.data[op.field]
    if expected == "OK":
        assert value is not None and op.ok(world, value), value
    else:
        _assert_hidden(op, world, caller, value)


def test_state_after_a_foreign_mutation_is_unchanged(gql, world):
    # given: staff of installation B acting on A's case
    headers = _other_installation(world, "staff")
    # when
    gql("staff", STAFF_OPS["caseStatusSet"].document, {"id": world.gid(world.case_ana)}, headers)
    # then
    world.case_ana.refresh_from_db()
    assert world.case_ana.status == CaseStatus.NEW
