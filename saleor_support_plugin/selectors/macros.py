"""Read macros (saved replies) of one installation."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import Installation, Macro


def macro_list(
    *,
    installation: Installation,
    reason: str = "",
    language: str = "",
    active: bool | None = None,
    search: str = "",
) -> QuerySet:
    """Macros by name. ``reason``/``language`` also match macros meant for any reason/language."""
    qs = Macro.objects.filter(installation=installation)
    if reason:
        qs = qs.filter(Q(reason=reason) | Q(reason=""))
    if language:
        qs = qs.filter(Q(language__iexact=language) | Q(language__iexact=language.split("-")[0]) | Q(language=""))
    if active is not None:
        qs = qs.filter(is_active=active)
    if search.strip():
        qs = qs.filter(Q(name__icontains=search.strip()) | Q(body__icontains=search.strip()))
    return qs.order_by("name", "language", "pk")


def macro_get(*, installation: Installation, macro_id: int | None) -> Macro:
    """The macro with this id in this installation, or NOT_FOUND."""
    macro = Macro.objects.filter(installation=installation, pk=macro_id).first() if macro_id is not None else None
    if macro is None:
        raise PermanentError(SupportErrorCode.NOT_FOUND, "Macro not found.", field="id")
    return macro
