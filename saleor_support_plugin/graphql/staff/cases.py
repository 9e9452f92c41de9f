"""Staff: the inbox, one case, and everything staff do to a case. Resolvers only translate."""

from __future__ import annotations

import strawberry

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import MANAGE_ORDERS, Info, StaffUser
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list, graphql_error
from saleor_support_plugin.graphql.ids import global_id_decode
from saleor_support_plugin.graphql.pagination import connection, page_size
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.graphql.staff.inputs import CaseFilterInput, CaseOpenFromOrderInput, CaseSortingInput
from saleor_support_plugin.graphql.types.cases import CaseConnection, CaseDetailType, MessageType, NoteType
from saleor_support_plugin.graphql.types.enums import CasePriorityEnum, CaseStatusEnum
from saleor_support_plugin.models import Case
from saleor_support_plugin.selectors.cases import case_get_for_staff, case_list_for_staff
from saleor_support_plugin.services import cases as case_services
from saleor_support_plugin.services.orders import case_open_from_order


def manage_orders() -> list:
    """A fresh extension list per field (a PermissionExtension keeps per-field state)."""
    return staff_requires(MANAGE_ORDERS)


def access_case_for_staff(staff: StaffUser, case_id: str, *, field: str = "id") -> Case:
    """The case behind a global id in the caller's installation, or NOT_FOUND (foreign ids included)."""
    try:
        return case_get_for_staff(installation=staff.installation, case_id=global_id_decode(case_id, type_name="Case"))
    except SupportError as exc:
        exc.field = field
        raise


# What the case screen shows, fetched with the case: 1 + 4 queries whatever the conversation's length.
CASE_DETAIL_QS = Case.objects.select_related("customer").prefetch_related("tags", "messages", "notes", "events")


@strawberry.type
class Query:
    @strawberry.field(extensions=manage_orders(), description="The inbox: cases matching a filter, one page at a time.")
    def cases(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: CaseFilterInput | None = None,  # noqa: A002 (Saleor's argument name)
        sort_by: CaseSortingInput | None = None,
    ) -> CaseConnection:
        staff = info.context.get_staff()
        filters = (filter or CaseFilterInput()).to_filter(staff)
        try:
            page = case_list_for_staff(
                installation=staff.installation,
                filters=filters,
                sort=(sort_by or CaseSortingInput()).to_sort(),
                first=page_size(first),
                after=after,
                prepare=lambda qs: qs.select_related("customer").prefetch_related("tags"),
            )
        except SupportError as exc:
            raise graphql_error(exc) from exc
        return connection(CaseConnection, page)

    @strawberry.field(
        extensions=manage_orders(), description="One case; null when it does not exist (or is not yours)."
    )
    def case(self, info: Info, id: strawberry.ID) -> CaseDetailType | None:  # noqa: A002
        staff = info.context.get_staff()
        pk = global_id_decode(id, type_name="Case")
        try:
            return case_get_for_staff(installation=staff.installation, case_id=pk, qs=CASE_DETAIL_QS)
        except SupportError:
            return None


@strawberry.type(name="CaseReply")
class CaseReplyPayload:
    case: CaseDetailType | None = None
    message: MessageType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="CaseNoteAdd")
class CaseNoteAddPayload:
    case: CaseDetailType | None = None
    note: NoteType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="CaseUpdate", description="Payload of the mutations that change a case and return it.")
class CasePayload:
    case: CaseDetailType | None = None
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


def _fresh(case: Case) -> Case:
    return Case.objects.select_related("customer").get(pk=case.pk)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=manage_orders(), description="Answer the customer (sent by e-mail).")
    def case_reply(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002
        body: str,
        status_after: CaseStatusEnum | None = None,  # type: ignore[valid-type]
    ) -> CaseReplyPayload:
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            status = status_after.value if status_after else None
            message = case_services.case_reply(case=case, body=body, actor=staff.actor, status_after=status)
        except SupportError as exc:
            return CaseReplyPayload(errors=error_list(exc))
        return CaseReplyPayload(case=_fresh(case), message=message)

    @strawberry.mutation(extensions=manage_orders(), description="Add an internal note.")
    def case_note_add(self, info: Info, id: strawberry.ID, body: str) -> CaseNoteAddPayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            note = case_services.case_note_add(case=case, body=body, actor=staff.actor)
        except SupportError as exc:
            return CaseNoteAddPayload(errors=error_list(exc))
        return CaseNoteAddPayload(case=_fresh(case), note=note)

    @strawberry.mutation(
        extensions=manage_orders(), description="Assign to a Saleor staff user; no user id and e-mail unassigns."
    )
    def case_assign(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002
        user_id: str | None = None,
        email: str | None = None,
    ) -> CasePayload:
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            case = case_services.case_assign(
                case=case, assignee_user_id=user_id or "", assignee_email=email or "", actor=staff.actor
            )
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(case))

    @strawberry.mutation(extensions=manage_orders(), description="Move the case to another status.")
    def case_status_set(self, info: Info, id: strawberry.ID, status: CaseStatusEnum) -> CasePayload:  # type: ignore[valid-type]  # noqa: A002
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            case = case_services.case_status_set(case=case, status=status.value, actor=staff.actor)
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(case))

    @strawberry.mutation(extensions=manage_orders(), description="Change priority (SLA targets follow).")
    def case_priority_set(self, info: Info, id: strawberry.ID, priority: CasePriorityEnum) -> CasePayload:  # type: ignore[valid-type]  # noqa: A002
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            case = case_services.case_priority_set(case=case, priority=priority.value, actor=staff.actor)
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(case))

    @strawberry.mutation(
        extensions=manage_orders(), description="Tag the case (tags are lower-cased; adding twice is fine)."
    )
    def case_tag_add(self, info: Info, id: strawberry.ID, tag: str) -> CasePayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            case_services.case_tag_add(case=case, tag=tag, actor=staff.actor)
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(case))

    @strawberry.mutation(extensions=manage_orders(), description="Remove a tag (removing a missing tag is fine).")
    def case_tag_remove(self, info: Info, id: strawberry.ID, tag: str) -> CasePayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            case = access_case_for_staff(staff, id)
            case_services.case_tag_remove(case=case, tag=tag, actor=staff.actor)
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(case))

    @strawberry.mutation(
        extensions=manage_orders(), description="Fold case `id` into case `intoId`; returns the target."
    )
    def case_merge(self, info: Info, id: strawberry.ID, into_id: strawberry.ID) -> CasePayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            source = access_case_for_staff(staff, id)
            target = access_case_for_staff(staff, into_id, field="intoId")
            target = case_services.case_merge(source=source, target=target, actor=staff.actor)
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(target))

    @strawberry.mutation(extensions=manage_orders(), description="Open a case by hand about a Saleor order.")
    def case_open_from_order(self, info: Info, input: CaseOpenFromOrderInput) -> CasePayload:  # noqa: A002
        staff = info.context.get_staff()
        try:
            case = case_open_from_order(installation=staff.installation, actor=staff.actor, **input.to_kwargs())
        except SupportError as exc:
            return CasePayload(errors=error_list(exc))
        return CasePayload(case=_fresh(case))
