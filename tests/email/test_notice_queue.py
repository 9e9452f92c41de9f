"""Proactive notices: opt-out, language, merchant templates, safe variables, shipped defaults."""

from __future__ import annotations

import re
from string import Template

import pytest

from saleor_support_plugin.errors import PermanentError
from saleor_support_plugin.events import RULE
from saleor_support_plugin.models import CaseEvent, CaseRule, NoticeTemplate, OutboundEmail, RuleSetting
from saleor_support_plugin.services.cases import case_open, case_resolve
from saleor_support_plugin.services.email import outbound_email_send
from saleor_support_plugin.services.notices import NOTICES_DIR, language_candidates, notice_queue
from tests.email.conftest import open_rule_case

NOTICE_RULES = [
    CaseRule.CHECKOUT_PAYMENT_FAILED,
    CaseRule.ORDER_PAYMENT_FAILED,
    CaseRule.ORDER_EXPIRED_UNPAID,
    CaseRule.FULFILLMENT_DELAY,
    CaseRule.DELIVERY_DELAY,
]
KNOWN_VARIABLES = {"case_number", "order_number", "amount", "currency", "customer_name", "tracking_number"}


def test_opt_out_per_rule_sends_nothing_and_writes_nothing(test_installation, django_capture_on_commit_callbacks):
    # given
    RuleSetting.objects.create(
        installation=test_installation, rule=CaseRule.ORDER_PAYMENT_FAILED, notify_customer=False
    )
    case = open_rule_case(test_installation)

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})

    # then
    assert email is None
    assert callbacks == []
    assert not OutboundEmail.objects.filter(case=case).exists()
    assert not CaseEvent.objects.filter(case=case, type="notice_queued").exists()


def test_opt_out_of_one_rule_leaves_the_others_on(test_installation):
    # given
    RuleSetting.objects.create(installation=test_installation, rule=CaseRule.DELIVERY_DELAY, notify_customer=False)
    case = open_rule_case(test_installation, rule=CaseRule.FULFILLMENT_DELAY)

    # when
    email = notice_queue(case=case, rule=CaseRule.FULFILLMENT_DELAY, facts={})

    # then
    assert email is not None
    event = CaseEvent.objects.get(case=case, type="notice_queued")
    assert event.parameters == {"email_id": email.pk, "kind": "notice:fulfillment_delay", "to": "ana@example.com"}


def test_case_without_customer_email_gets_no_notice(test_installation):
    # given
    case = case_open(
        installation=test_installation,
        subject="Checkout payment failed",
        actor=RULE,
        rule=CaseRule.ORDER_PAYMENT_FAILED,
    )

    # when
    email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={"order_number": "7"})

    # then
    assert email is None
    assert not OutboundEmail.objects.exists()


def test_resolved_case_gets_no_notice(test_installation):
    # given
    case = open_rule_case(test_installation)
    case_resolve(case=case, actor=RULE, why="payment went through")

    # when
    email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})

    # then
    assert email is None


def test_merchant_template_overrides_the_default(test_installation, smtp_server):
    # given
    NoticeTemplate.objects.create(
        installation=test_installation,
        rule=CaseRule.ORDER_PAYMENT_FAILED,
        language="pt",
        subject="Pagamento pendente: $order_number",
        body="Cara $customer_name, faltam $amount $currency. Até já!\n",
    )
    case = open_rule_case(test_installation, language_code="PT_BR", customer_name="Ana")

    # when
    email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})
    outbound_email_send(email_id=email.pk)

    # then
    [sent] = smtp_server.messages
    assert sent["Subject"] == "Pagamento pendente: 1042"
    assert sent.get_content().strip() == "Cara Ana, faltam 49.90 EUR. Até já!"


def test_merchant_template_in_another_language_does_not_replace_the_default(test_installation):
    # given
    NoticeTemplate.objects.create(
        installation=test_installation, rule=CaseRule.ORDER_PAYMENT_FAILED, language="de", subject="DE", body="DE"
    )
    case = open_rule_case(test_installation, language_code="ES")

    # when
    email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})

    # then
    assert email.subject == "El pago del pedido 1042 no se ha completado"


def test_variable_values_are_printed_literally(test_installation, smtp_server):
    # given
    case = open_rule_case(test_installation, customer_name="$amount {x} ${currency} %(y)s")

    # when
    email = notice_queue(
        case=case, rule=CaseRule.DELIVERY_DELAY, facts={"tracking_number": "$case_number\nBcc: evil@example.com"}
    )
    outbound_email_send(email_id=email.pk)

    # then
    body = smtp_server.messages[0].get_content().replace("\r\n", "\n")
    assert "Hello $amount {x} ${currency} %(y)s," in body
    assert "Tracking number: $case_number\nBcc: evil@example.com" in body
    assert smtp_server.envelopes[0][1] == ["ana@example.com"]


def test_unknown_variables_stay_as_written_without_error(test_installation):
    # given
    NoticeTemplate.objects.create(
        installation=test_installation,
        rule=CaseRule.ORDER_PAYMENT_FAILED,
        language="en",
        subject="Order $order_number: $no_such_thing",
        body="Use code $discount_code or pay $$5 more. {customer_name} ${order_number}\n",
    )
    case = open_rule_case(test_installation)

    # when
    email = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})

    # then
    assert email.subject == "Order 1042: $no_such_thing"
    assert email.body == "Use code $discount_code or pay $5 more. {customer_name} 1042\n"


def test_facts_fill_in_and_empty_name_falls_back_to_the_greeting(test_installation):
    # given
    case = open_rule_case(test_installation, customer_name="", language_code="NB", rule=CaseRule.DELIVERY_DELAY)

    # when
    email = notice_queue(case=case, rule=CaseRule.DELIVERY_DELAY, facts={"tracking_number": "JJD0099"})

    # then
    assert email.subject == "Oppdatering om leveringen av bestilling 1042"
    assert email.body.startswith("Hei kunde,")
    assert "Sporingsnummer: JJD0099" in email.body


@pytest.mark.parametrize(
    ("language_code", "expected_subject"),
    [
        ("EN", "Your order 1042 expired before it was paid"),
        ("PT_BR", "A sua encomenda 1042 expirou antes do pagamento"),
        ("ES_MX", "Tu pedido 1042 caducó antes de pagarse"),
        ("NB", "Bestilling 1042 utløp før den ble betalt"),
        ("DE", "Ihre Bestellung 1042 ist abgelaufen, bevor sie bezahlt wurde"),
        ("FR", "Your order 1042 expired before it was paid"),
        ("", "Your order 1042 expired before it was paid"),
    ],
)
def test_language_of_the_order_picks_the_template(test_installation, language_code, expected_subject):
    # given
    case = open_rule_case(test_installation, rule=CaseRule.ORDER_EXPIRED_UNPAID, language_code=language_code)

    # when
    email = notice_queue(case=case, rule=CaseRule.ORDER_EXPIRED_UNPAID, facts={})

    # then
    assert email.subject == expected_subject


def test_one_notice_per_case_and_rule(test_installation, django_capture_on_commit_callbacks):
    # given
    case = open_rule_case(test_installation)
    first = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = notice_queue(case=case, rule=CaseRule.ORDER_PAYMENT_FAILED, facts={})

    # then
    assert again.pk == first.pk
    assert callbacks == []
    assert OutboundEmail.objects.filter(case=case).count() == 1


def test_unknown_rule_is_refused(test_installation):
    case = open_rule_case(test_installation)
    with pytest.raises(PermanentError):
        notice_queue(case=case, rule="made_up", facts={})


def test_language_candidates_follow_saleor_codes():
    assert language_candidates("PT_BR") == ["pt-br", "pt", "en"]
    assert language_candidates("NO") == ["no", "nb", "en"]
    assert language_candidates("") == ["en"]


@pytest.mark.parametrize("rule", NOTICE_RULES)
@pytest.mark.parametrize("language", ["en", "pt", "es", "nb", "de"])
def test_every_notice_rule_ships_every_language_with_known_variables(rule, language):
    # given
    path = NOTICES_DIR / f"{rule}.{language}.txt"

    # when
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")

    # then
    assert head.startswith("Subject: ")
    used = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(head + body) if not m["escaped"]}
    assert used <= KNOWN_VARIABLES
    assert "$case_number" in body
    assert not re.search(r"\{\w+\}", body)
