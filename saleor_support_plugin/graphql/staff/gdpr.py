"""Staff: GDPR requests for one shopper: export their support data, or erase it.

Both need MANAGE_USERS, Saleor's permission for customer accounts: answering a data-subject request is
customer administration, not case work, and erasure cannot be undone.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from saleor_support_plugin.errors import SupportError
from saleor_support_plugin.graphql.context import Info
from saleor_support_plugin.graphql.errors import SupportErrorType, error_list
from saleor_support_plugin.graphql.permissions import staff_requires
from saleor_support_plugin.services.gdpr import customer_data_erase, customer_data_export

MANAGE_USERS = "MANAGE_USERS"
GDPR = staff_requires(MANAGE_USERS)


@strawberry.type(name="CustomerDataExport")
class CustomerDataExportPayload:
    data: JSON | None = strawberry.field(default=None, description="Everything we hold on the shopper.")
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type(name="ErasedCount")
class ErasedCountType:
    kind: str
    count: int


@strawberry.type(name="CustomerDataErase")
class CustomerDataErasePayload:
    erased: list[ErasedCountType] | None = strawberry.field(default=None, description="Rows anonymised, per kind.")
    errors: list[SupportErrorType] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=GDPR, description="Export the support data of the shopper with this e-mail.")
    def customer_data_export(self, info: Info, email: str) -> CustomerDataExportPayload:
        staff = info.context.get_staff()
        try:
            document = customer_data_export(installation=staff.installation, email=email, actor=staff.actor)
        except SupportError as exc:
            return CustomerDataExportPayload(errors=error_list(exc))
        return CustomerDataExportPayload(data=document)

    @strawberry.mutation(extensions=GDPR, description="Erase the shopper's personal data; anonymous metrics stay.")
    def customer_data_erase(self, info: Info, email: str) -> CustomerDataErasePayload:
        staff = info.context.get_staff()
        try:
            counts = customer_data_erase(installation=staff.installation, email=email, actor=staff.actor)
        except SupportError as exc:
            return CustomerDataErasePayload(errors=error_list(exc))
        return CustomerDataErasePayload(erased=[ErasedCountType(kind=k, count=n) for k, n in counts.items()])
