"""Staff GDPR mutations: MANAGE_USERS, own shop only, Saleor-style errors."""

from __future__ import annotations

from saleor_support_plugin.models import Customer
from tests.gdpr.conftest import ANA
from tests.graphql.conftest import staff_headers

EXPORT = "mutation($email: String!) { customerDataExport(email: $email) { data errors { field code message } } }"
ERASE = "mutation($email: String!) { customerDataErase(email: $email) { erased { kind count } errors { field code } } }"


def test_export_returns_the_document(gql, shop, elsewhere):
    result = gql("staff", EXPORT, {"email": ANA}, staff_headers(shop.installation, permissions=("MANAGE_USERS",)))

    payload = result.data["customerDataExport"]
    assert payload["errors"] == []
    assert payload["data"]["email"] == ANA
    assert [c["number"] for c in payload["data"]["cases"]] == [shop.ana_case.number, shop.ana_rule_case.number]
    assert payload["data"]["saleor_api_url"] == shop.installation.saleor_api_url


def test_erase_reports_counts_and_touches_only_this_shop(gql, shop, elsewhere):
    result = gql("staff", ERASE, {"email": ANA}, staff_headers(shop.installation, permissions=("MANAGE_USERS",)))

    erased = {row["kind"]: row["count"] for row in result.data["customerDataErase"]["erased"]}
    assert erased["customers"] == 1 and erased["cases"] == 2
    assert not Customer.objects.filter(installation=shop.installation, email=ANA).exists()
    assert Customer.objects.filter(installation=elsewhere.installation, email=ANA).exists()


def test_invalid_address_is_a_payload_error(gql, shop):
    result = gql("staff", ERASE, {"email": "nope"}, staff_headers(shop.installation, permissions=("MANAGE_USERS",)))

    assert result.data["customerDataErase"] == {"erased": None, "errors": [{"field": "email", "code": "INVALID"}]}


def test_case_workers_without_manage_users_may_not(gql, shop):
    headers = staff_headers(shop.installation, permissions=("MANAGE_ORDERS", "HANDLE_PAYMENTS"))

    for document in (EXPORT, ERASE):
        assert gql("staff", document, {"email": ANA}, headers).error_codes == ["FORBIDDEN"]
    assert Customer.objects.filter(installation=shop.installation, email=ANA).exists()
