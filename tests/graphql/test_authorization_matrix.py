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
from strawberry.utils.str_converters import to_camel_case

from saleor_support_plugin.events import Actor
from saleor_support_plugin.graphql.ids import global_id
from saleor_support_plugin.models import Case, CaseStatus, Installation, Macro
from saleor_support_plugin.services.cases import case_tag_add
from tests.conftest import make_installation
from tests.fixtures.signing import test_jwks as signing_jwks
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
    "staff_manage_apps_only": _staff(("MANAGE_APPS",)),  # configures the app, does not work cases
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
    "macroDelete": Op("staff", "macroDelete",
                      "mutation($id: ID!) { macroDelete(id: $id) { deletedId errors { code } } }",
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

# Feedback, metrics and GDPR (graphql/staff/{metrics,feedback,gdpr}.py, graphql/shopper/feedback.py). They act on
# the caller's own shop (another shop's staff get their own numbers/data: OK); GDPR needs MANAGE_USERS instead
# of MANAGE_ORDERS; a survey answers only to the address it was sent to.
OWN_SHOP_OPS = {
    "supportMetrics",
    "feedbackSettings",
    "feedbackSettingsUpdate",
    "customerDataExport",
    "customerDataErase",
}
MANAGE_USERS_OPS = {"customerDataExport", "customerDataErase"}


def _survey_token(w: World) -> str:
    from django.utils import timezone

    from tests.feedback.builders import answer

    return answer(w.a, "csat", None, answered_at=None, case=w.case_ana, created_at=timezone.now()).token


STAFF_OPS |= {
    "supportMetrics": Op("staff", "supportMetrics", "{ supportMetrics(start: \"2000-01-01T00:00:00Z\", "
                         "end: \"2100-01-01T00:00:00Z\") { automation { cases } } }", lambda w: {},
                         lambda w, v: v["automation"]["cases"] >= 1, "null"),
    "feedbackSettings": Op("staff", "feedbackSettings", "{ feedbackSettings { csatEnabled } }", lambda w: {},
                           lambda w, v: v["csatEnabled"] is False, "null"),
    "feedbackSettingsUpdate": Op("staff", "feedbackSettingsUpdate", "mutation { feedbackSettingsUpdate(input: "
                                 "{csatEnabled: true}) { settings { csatEnabled } errors { code } } }", lambda w: {},
                                 _payload_ok("settings"), "not_found"),
    "customerDataExport": Op("staff", "customerDataExport", "mutation { customerDataExport(email: \"ana@example.com\")"
                             " { data errors { code } } }", lambda w: {}, _payload_ok("data"), "not_found"),
    "customerDataErase": Op("staff", "customerDataErase", "mutation { customerDataErase(email: \"ana@example.com\")"
                            " { erased { kind count } errors { code } } }", lambda w: {}, _payload_ok("erased"),
                            "not_found"),
}  # fmt: skip
SHOPPER_OPS |= {
    "feedbackSubmit": Op("shopper", "feedbackSubmit", "mutation($token: String!) { feedbackSubmit(token: $token, "
                         "score: 5) { feedback { score } errors { code } } }", lambda w: {"token": _survey_token(w)},
                         _payload_ok("feedback"), "not_found"),
}  # fmt: skip

# AI (graphql/staff/ai.py, graphql/shopper/knowledge.py). Provider and autopilot configuration need MANAGE_APPS
# (not MANAGE_ORDERS); the rest needs MANAGE_ORDERS. Usage and autopilot rules are the caller's own shop's;
# any shopper of the shop (or a guest with proof) may search its published help articles.
MANAGE_APPS_OPS = {"llmProviderUpdate", "autopilotRuleSet"}
OWN_SHOP_OPS |= {"llmUsage", "autopilotRules", "knowledgeArticleCreate"}


def _ai_article(w: World):
    from saleor_support_plugin.models import KnowledgeArticle

    article, _ = KnowledgeArticle.objects.get_or_create(
        installation=w.a, title="How to return an item", defaults={"body": "Returns are free within 30 days."}
    )
    return article


def _ai_article_id(w: World) -> str:
    return global_id("KnowledgeArticle", _ai_article(w).pk)


def _ai_draft_id(w: World) -> str:
    from saleor_support_plugin.models import Message, MessageDirection, MessageTriage, ReplyDraft

    message = Message.objects.filter(case=w.case_ana, direction=MessageDirection.INBOUND).latest("created_at")
    MessageTriage.objects.get_or_create(
        message=message,
        defaults={
            "installation": w.a,
            "case": w.case_ana,
            "engine": "offline",
            "intent": "order_status",
            "offline_intent": "order_status",
            "confidence": 0.9,
        },
    )
    draft, _ = ReplyDraft.objects.get_or_create(
        message=message,
        defaults={"installation": w.a, "case": w.case_ana, "body": "It ships tomorrow.", "engine": "offline"},
    )
    return global_id("ReplyDraft", draft.pk)


def _with_article(w: World, **variables: str) -> dict:
    _ai_article(w)
    return variables


def _ai_provider(w: World) -> dict:
    from saleor_support_plugin.services.ai_settings import llm_provider_set

    llm_provider_set(installation=w.a, model="shop-a-model", api_key="sk-shop-a-secret-1234")
    return {}


STAFF_OPS |= {
    "llmProvider": Op("staff", "llmProvider", "{ llmProvider { model hasApiKey apiKeyLast4 } }", _ai_provider,
                      lambda w, v: v == {"model": "shop-a-model", "hasApiKey": True, "apiKeyLast4": "1234"}, "null"),
    "llmProviderUpdate": Op("staff", "llmProviderUpdate", "mutation { llmProviderUpdate(input: {model: \"m\", "
                            "apiKey: \"sk-abcdefghijkl\"}) { provider { model hasApiKey } errors { code } } }",
                            lambda w: {}, _payload_ok("provider"), "not_found"),
    "llmUsage": Op("staff", "llmUsage", "{ llmUsage { calls usedTokens } }", lambda w: {},
                   lambda w, v: v == {"calls": 0, "usedTokens": 0}, "null"),
    "autopilotRules": Op("staff", "autopilotRules", "{ autopilotRules { intent isEnabled } }", lambda w: {},
                         lambda w, v: len(v) > 20 and not any(r["isEnabled"] for r in v), "empty"),
    "autopilotRuleSet": Op("staff", "autopilotRuleSet", "mutation { autopilotRuleSet(intent: ORDER_STATUS, "
                           "isEnabled: true) { rule { intent isEnabled } errors { code } } }", lambda w: {},
                           _payload_ok("rule"), "not_found"),
    "knowledgeArticles": Op("staff", "knowledgeArticles", "{ knowledgeArticles { id } }",
                            _with_article,
                            lambda w, v: [x["id"] for x in v] == [_ai_article_id(w)], "empty"),
    "knowledgeArticleCreate": Op("staff", "knowledgeArticleCreate", "mutation { knowledgeArticleCreate(input: "
                                 "{title: \"Sizes\", body: \"Our size guide\"}) { article { id } errors { code } } }",
                                 lambda w: {}, _payload_ok("article"), "not_found"),
    "knowledgeArticleUpdate": Op("staff", "knowledgeArticleUpdate", "mutation($id: ID!) { knowledgeArticleUpdate("
                                 "id: $id, input: {isPublished: false}) { article { id } errors { code } } }",
                                 lambda w: {"id": _ai_article_id(w)}, _payload_ok("article"), "not_found"),
    "knowledgeArticleDelete": Op("staff", "knowledgeArticleDelete", "mutation($id: ID!) { knowledgeArticleDelete("
                                 "id: $id) { deletedId errors { code } } }", lambda w: {"id": _ai_article_id(w)},
                                 _payload_ok("deletedId"), "not_found"),
    "case.triage.draft": Op("staff", "case", "query($id: ID!) { case(id: $id) { triage { intent } draft { id } } }",
                            lambda w: _ai_draft_id(w) and {"id": w.gid(w.case_ana)},
                            lambda w, v: v["triage"] == {"intent": "ORDER_STATUS"} and v["draft"]["id"]
                            == _ai_draft_id(w), "null"),
    "replyDraftUse": Op("staff", "replyDraftUse", "mutation($id: ID!) { replyDraftUse(draftId: $id) "
                        "{ draft { status } message { id } errors { code } } }", lambda w: {"id": _ai_draft_id(w)},
                        _payload_ok("message"), "not_found"),
    "replyDraftDiscard": Op("staff", "replyDraftDiscard", "mutation($id: ID!) { replyDraftDiscard(draftId: $id) "
                            "{ draft { status } errors { code } } }", lambda w: {"id": _ai_draft_id(w)},
                            _payload_ok("draft"), "not_found"),
}  # fmt: skip
SHOPPER_OPS |= {
    "helpSearch": Op("shopper", "helpSearch", "query($q: String!) { helpSearch(query: $q) { id } }",
                     lambda w: _with_article(w, q="return an item"),
                     lambda w, v: [x["id"] for x in v] == [_ai_article_id(w)], "empty"),
}  # fmt: skip
ANY_SHOPPER_OPS = {"helpSearch"}

UNAUTH = "401:UNAUTHORIZED"
BAD_TOKEN = "401:INVALID_TOKEN"
EXPIRED = "401:TOKEN_EXPIRED"


def _staff_expected(op: str) -> dict[str, str]:
    # Creating a macro in one's own installation is fine for staff of any installation.
    other = "OK" if op == "macroCreate" or op in OWN_SHOP_OPS else "HIDDEN"
    expected = {
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
    expected["staff_manage_apps_only"] = "FORBIDDEN"
    if op in MANAGE_USERS_OPS:
        expected |= {"staff_without_manage_orders": "OK", "staff": "FORBIDDEN"}
    if op in MANAGE_APPS_OPS:  # the other installation's token (conftest) has no MANAGE_APPS either
        expected |= {"staff": "FORBIDDEN", "staff_manage_apps_only": "OK", "other_installation": "FORBIDDEN"}
    return expected


def _shopper_expected(op: str) -> dict[str, str]:
    return {
        "no_token": UNAUTH,
        "shopper_a": "OK",
        "shopper_b": "OK" if op in ANY_SHOPPER_OPS else "HIDDEN",
        "guest_with_proof": "OK",
        "guest_without_proof": UNAUTH,
        "staff_without_manage_orders": BAD_TOKEN,  # a Dashboard token is not a customer token
        "staff": BAD_TOKEN,
        "staff_manage_apps_only": BAD_TOKEN,
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


def _domain_fields(*classes: type) -> set[str]:
    from strawberry.types.base import get_object_definition

    return {field.graphql_name or to_camel_case(field.python_name)
            for cls in classes for field in get_object_definition(cls, strict=True).fields}  # fmt: skip


def test_matrix_covers_every_operation_of_the_case_order_and_macro_domains():
    """Every root field of these domains has matrix rows (other domains add theirs above, or test elsewhere)."""
    from saleor_support_plugin.graphql.shopper import cases as shopper_cases
    from saleor_support_plugin.graphql.staff import cases, macros, orders

    staff = _domain_fields(cases.Query, cases.Mutation, orders.Mutation, macros.Query, macros.Mutation)
    shopper = _domain_fields(shopper_cases.Query, shopper_cases.Mutation)
    assert staff <= {op.field for op in STAFF_OPS.values()}, staff - {op.field for op in STAFF_OPS.values()}
    assert shopper <= {op.field for op in SHOPPER_OPS.values()}, shopper - {op.field for op in SHOPPER_OPS.values()}
    assert set(CALLERS) == {p.values[1] for p in MATRIX}


def test_matrix_covers_every_ai_operation():
    from saleor_support_plugin.graphql.shopper import knowledge
    from saleor_support_plugin.graphql.staff import ai

    staff = _domain_fields(ai.Query, ai.Mutation)
    assert staff <= {op.field for op in STAFF_OPS.values()}, staff - {op.field for op in STAFF_OPS.values()}
    shopper = _domain_fields(knowledge.Query)
    assert shopper <= {op.field for op in SHOPPER_OPS.values()}, shopper - {op.field for op in SHOPPER_OPS.values()}


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
