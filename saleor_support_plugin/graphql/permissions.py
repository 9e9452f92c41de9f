"""Field permissions. Authentication already happened in the view; these decide what the caller may do.

Staff permissions are the Saleor permissions of the Dashboard user (the token's ``user_permissions``,
as @saleor/app-sdk reads them): working cases needs MANAGE_ORDERS; money operations will add
HANDLE_PAYMENTS. A refusal is a top-level error with ``extensions.code = FORBIDDEN`` and a null field,
like Saleor's own PermissionDenied.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from saleor_support_plugin.errors import SupportErrorCode as Code
from saleor_support_plugin.graphql.context import Info
from saleor_support_plugin.graphql.errors import error_extensions


class HasSaleorPermissions(BasePermission):
    error_extensions = error_extensions(Code.FORBIDDEN)

    def __init__(self, *permissions: str) -> None:
        self.permissions = permissions
        self.message = f"You need these Saleor permissions: {', '.join(permissions)}."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        staff = info.context.staff
        return staff is not None and all(staff.has_permission(p) for p in self.permissions)


class IsShopper(BasePermission):
    message = "Only shoppers may do this."
    error_extensions = error_extensions(Code.UNAUTHORIZED)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.shopper is not None


def staff_requires(*permissions: str) -> list[PermissionExtension]:
    """``extensions=`` for a staff field: ``@strawberry.field(extensions=staff_requires(MANAGE_ORDERS))``."""
    return [PermissionExtension(permissions=[HasSaleorPermissions(*permissions)], use_directives=False)]


def shopper_required() -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[IsShopper()], use_directives=False)]
