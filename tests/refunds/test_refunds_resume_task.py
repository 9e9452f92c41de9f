"""The beat task carries interrupted refunds on by itself, without granting twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_support_plugin.errors import RetryableError
from saleor_support_plugin.models import RefundRecord, RefundStatus
from saleor_support_plugin.tasks import refunds_resume_task
from tests.refunds.shop import mutations, open_case, put_order
from tests.refunds.test_refund_issue import KEY, issue, tee


def test_interrupted_refund_is_resumed_by_the_beat_task(installation, saleor, short_timeout):
    # given Saleor went down right after our ledger row was written
    order = put_order(saleor)
    case = open_case(installation, order)
    saleor.fail_next(1, status=503, operation="RefundGrantCreate")
    with pytest.raises(RetryableError):
        issue(installation, case, lines=tee(order))
    RefundRecord.objects.filter(idempotency_key=KEY).update(updated_at=timezone.now() - timedelta(minutes=10))

    # when the beat task runs (twice, as beat would)
    assert refunds_resume_task.run() == 1
    refunds_resume_task.run()

    # then the refund went through once: one grant, sent once
    record = RefundRecord.objects.get(idempotency_key=KEY)
    assert record.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    assert mutations(saleor).count("RefundGrantCreate") == 2  # the refused attempt and the resumed one
    assert len(saleor.mutations.grants(order["id"])) == 1


def test_recent_or_finished_refunds_are_left_alone(installation, saleor):
    order = put_order(saleor)
    case = open_case(installation, order)
    issue(installation, case, lines=tee(order))

    assert refunds_resume_task.run() == 0
