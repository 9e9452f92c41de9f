"""Staff: macros (saved replies with $variables): list, preview against a case, create, update, delete.

Any staff user who may work cases (MANAGE_ORDERS) may manage macros: they are the team's shared
replies, not app configuration.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import Parent

from saleor_support_plugin import models as m
from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import MANAGE_ORDERS, Info
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list, graphql_error
from saleor_support_plugin.graphql.ids import global_id, global_id_decode
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.graphql.staff.cases import access_case_for_staff
from saleor_support_plugin.graphql.types.enums import CaseReasonEnum
from saleor_support_plugin.selectors.macros import macro_get, macro_list
from saleor_support_plugin.services.macros import MacroChanges, macro_create, macro_delete, macro_render, macro_update


def manage_orders() -> list:
    """A fresh extension list per field (a PermissionExtension keeps per-field state)."""
    return staff_requires(MANAGE_ORDERS)


MAX_MACROS = 500


@strawberry_django.type(m.Macro, name="Macro", description="A saved reply; its body may use $variables.")
class MacroType:
    name: str
    body: str
    language: str = strawberry_django.field(description="BCP-47 tag; empty means any language.")
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self, root: Parent[m.Macro]) -> strawberry.ID:
        return strawberry.ID(global_id("Macro", root.pk))

    @strawberry_django.field(only=["reason"], description="The case reason it is meant for; null means any.")
    def reason(self, root: Parent[m.Macro]) -> CaseReasonEnum | None:  # type: ignore[valid-type]
        return root.reason or None


@strawberry.input(name="MacroFilterInput")
class MacroFilterInput:
    reason: CaseReasonEnum | None = None  # type: ignore[valid-type]
    language: str | None = None
    is_active: bool | None = None
    search: str | None = None


@strawberry.input(name="MacroInput", description="Fields to set; omitted fields stay as they are on update.")
class MacroInput:
    name: str | None = None
    body: str | None = None
    reason: CaseReasonEnum | None = strawberry.field(default=None, description="Omit to keep; set ANY via clearReason.")  # type: ignore[valid-type]
    clear_reason: bool = strawberry.field(default=False, description="Make the macro apply to any reason.")
    language: str | None = None
    is_active: bool | None = None

    def to_changes(self) -> MacroChanges:
        reason = "" if self.clear_reason else (self.reason.value if self.reason else None)
        return MacroChanges(
            name=self.name, body=self.body, reason=reason, language=self.language, is_active=self.is_active
        )


@strawberry.type(name="MacroPreview", description="A macro body filled in for one case.")
class MacroPreview:
    body: str
    unknown_variables: list[str] = strawberry.field(description="$names that no macro can use.")
    missing_values: list[str] = strawberry.field(description="$names this case has no value for (left as written).")


def _macro(info: Info, macro_id: str, *, field: str = "id") -> m.Macro:
    staff = info.context.get_staff()
    try:
        return macro_get(installation=staff.installation, macro_id=global_id_decode(macro_id, type_name="Macro"))
    except SupportError as exc:
        exc.field = field
        raise


@strawberry.type
class Query:
    @strawberry.field(extensions=manage_orders(), description="Macros by name; reason/language also match 'any'.")
    def macros(self, info: Info, filter: MacroFilterInput | None = None) -> list[MacroType]:  # noqa: A002
        f = filter or MacroFilterInput()
        return macro_list(
            installation=info.context.get_staff().installation,
            reason=f.reason.value if f.reason else "",
            language=f.language or "",
            active=f.is_active,
            search=f.search or "",
        )[:MAX_MACROS]

    @strawberry.field(extensions=manage_orders(), description="A saved macro or an unsaved body, filled in for a case.")
    def macro_preview(
        self, info: Info, case_id: strawberry.ID, macro_id: strawberry.ID | None = None, body: str | None = None
    ) -> MacroPreview:
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, case_id, field="caseId")
            text = _macro(info, macro_id, field="macroId").body if macro_id else (body or "")
            rendering = macro_render(body=text, case=case, agent_email=staff.email)
        except SupportError as exc:
            raise graphql_error(exc) from exc
        return MacroPreview(
            body=rendering.body,
            unknown_variables=rendering.unknown_variables,
            missing_values=rendering.missing_values,
        )


@strawberry.type(name="MacroCreate")
class MacroCreatePayload:
    macro: MacroType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="MacroUpdate")
class MacroUpdatePayload:
    macro: MacroType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="MacroDelete")
class MacroDeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=manage_orders(), description="Save a new macro (name and body required).")
    def macro_create(self, info: Info, input: MacroInput) -> MacroCreatePayload:  # noqa: A002
        try:
            macro = macro_create(installation=info.context.get_staff().installation, changes=input.to_changes())
        except SupportError as exc:
            return MacroCreatePayload(errors=error_list(exc))
        return MacroCreatePayload(macro=macro)

    @strawberry.mutation(extensions=manage_orders(), description="Change a macro.")
    def macro_update(self, info: Info, id: strawberry.ID, input: MacroInput) -> MacroUpdatePayload:  # noqa: A002
        try:
            macro = macro_update(macro=_macro(info, id), changes=input.to_changes())
        except SupportError as exc:
            return MacroUpdatePayload(errors=error_list(exc))
        return MacroUpdatePayload(macro=macro)

    @strawberry.mutation(extensions=manage_orders(), description="Delete a macro.")
    def macro_delete(self, info: Info, id: strawberry.ID) -> MacroDeletePayload:  # noqa: A002
        try:
            macro_delete(macro=_macro(info, id))
        except SupportError as exc:
            return MacroDeletePayload(errors=error_list(exc))
        return MacroDeletePayload(deleted_id=id)
