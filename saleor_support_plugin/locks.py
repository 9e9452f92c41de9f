"""Row locks; call inside ``transaction.atomic``."""

from __future__ import annotations

from saleor_support_plugin.models import Case
from saleor_support_plugin.models.cases import CaseQuerySet


def case_qs_select_for_update() -> CaseQuerySet:
    return Case.objects.select_for_update(of=("self",))
