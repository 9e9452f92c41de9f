"""Macros: saved replies staff (and drafts) reuse. Bodies may use $variables filled from the case and its order."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction

from saleor_support_plugin.ai.drafts import MACRO_VARIABLES
from saleor_support_plugin.ai.facts import order_facts_from_snapshot
from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import Case, CaseReason, Installation, Macro, OrderSnapshot

MAX_NAME = 120
MAX_BODY = 10_000
MAX_LANGUAGE = 16
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")


def _text(value: str | None, *, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise PermanentError(SupportErrorCode.REQUIRED, f"{field} is required.", field=field)
    if len(text) > limit:
        raise PermanentError(SupportErrorCode.INVALID, f"{field} is longer than {limit} characters.", field=field)
    return text


def _reason(value: str) -> str:
    if value and value not in CaseReason.values:
        raise PermanentError(SupportErrorCode.INVALID, f"Unknown reason {value!r}.", field="reason")
    return value


def _language(value: str) -> str:
    value = (value or "").strip()
    if value and (len(value) > MAX_LANGUAGE or not _LANGUAGE.fullmatch(value)):
        raise PermanentError(
            SupportErrorCode.INVALID, "language must be a BCP-47 tag such as en or pt-BR.", field="language"
        )
    return value


@dataclass(frozen=True, slots=True)
class MacroChanges:
    """Fields to change; None leaves a field as it is."""

    name: str | None = None
    body: str | None = None
    reason: str | None = None
    language: str | None = None
    is_active: bool | None = None


def _apply(macro: Macro, changes: MacroChanges) -> list[str]:
    values = {
        "name": None if changes.name is None else _text(changes.name, field="name", limit=MAX_NAME),
        "body": None if changes.body is None else _text(changes.body, field="body", limit=MAX_BODY),
        "reason": None if changes.reason is None else _reason(changes.reason),
        "language": None if changes.language is None else _language(changes.language),
        "is_active": changes.is_active,
    }
    changed = [name for name, value in values.items() if value is not None and getattr(macro, name) != value]
    for name in changed:
        setattr(macro, name, values[name])
    return changed


def _save(macro: Macro, **kwargs: object) -> None:
    try:
        with transaction.atomic():
            macro.save(**kwargs)
    except IntegrityError as exc:
        raise PermanentError(
            SupportErrorCode.DUPLICATE, "A macro with this name and language already exists.", field="name"
        ) from exc


def macro_create(*, installation: Installation, changes: MacroChanges) -> Macro:
    """Save a new macro (name and body required; name unique per language). Writes: Macro."""
    macro = Macro(installation=installation)
    _apply(macro, replace(changes, name=changes.name or "", body=changes.body or ""))
    _save(macro)
    return macro


def macro_update(*, macro: Macro, changes: MacroChanges) -> Macro:
    """Change some fields of a macro (unchanged input writes nothing). Writes: Macro."""
    changed = _apply(macro, changes)
    if changed:
        _save(macro, update_fields=[*changed, "updated_at"])
    return macro


def macro_delete(*, macro: Macro) -> None:
    """Delete the macro. Drafts citing it keep their text. Writes: Macro (delete)."""
    macro.delete()


# --- rendering ----------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MacroRendering:
    body: str
    unknown_variables: list[str]  # $names no macro can use: left as written
    missing_values: list[str]  # known $names this case has no value for: left as written


def macro_values(
    *, case: Case, order: OrderSnapshot | None, agent_email: str = "", author_name: str = ""
) -> dict[str, str]:
    """Every $variable a macro may use (``MACRO_VARIABLES``) for ``case``; "" where this case has no value.

    The one source of macro values: staff previews (``macro_render``) and AI drafts (services/triage.py)
    fill the same names the same way. ``author_name``: the name the shopper signed their message with,
    preferred over the customer record's. Reads: Customer (unless selected).
    """
    customer = case.customer if case.customer_id else None
    name = (author_name or (customer.name if customer else "")).strip()
    values = dict.fromkeys(MACRO_VARIABLES, "")
    values.update(order_facts_from_snapshot(order).variables())
    values.update(
        case_number=str(case.number),
        customer_name=name,
        first_name=name.split()[0] if name else "",
        customer_email=customer.email if customer else "",
        agent_email=agent_email,
    )
    values["order_number"] = values["order_number"] or case.order_number
    return values


def macro_variables(*, case: Case, agent_email: str = "") -> dict[str, str]:
    """``macro_values`` for ``case`` with its order snapshot. Reads: OrderSnapshot, Customer."""
    order = None
    if case.order_saleor_id:
        order = OrderSnapshot.objects.filter(
            installation_id=case.installation_id, saleor_id=case.order_saleor_id
        ).first()
    return macro_values(case=case, order=order, agent_email=agent_email)


def macro_render(*, body: str, case: Case, agent_email: str = "") -> MacroRendering:
    """Fill ``body``'s $variables for ``case`` (``$$`` is a literal dollar). Reads: Customer, OrderSnapshot."""
    values = macro_variables(case=case, agent_email=agent_email)
    unknown: list[str] = []
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        if match.group(1):
            return "$"
        name = (match.group(2) or match.group(3)).lower()
        if name not in values:
            unknown.append(name)
            return match.group(0)
        if not values[name]:
            missing.append(name)
            return match.group(0)
        return values[name]

    rendered = _VARIABLE.sub(fill, body)
    return MacroRendering(body=rendered, unknown_variables=sorted(set(unknown)), missing_values=sorted(set(missing)))
