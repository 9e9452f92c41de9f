"""The typed context every resolver receives, and the two kinds of caller it can hold.

The view authenticates before executing anything (``graphql/auth.py``), so on the staff schema
``context.staff`` is always set and on the shopper schema ``context.shopper`` is; ``get_staff()`` /
``get_shopper()`` still refuse loudly if that invariant were ever broken.
"""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.django.context import StrawberryDjangoContext

from saleor_support_plugin.events import Actor
from saleor_support_plugin.models import Installation
from saleor_support_plugin.selectors.cases import ShopperScope

MANAGE_ORDERS = "MANAGE_ORDERS"
HANDLE_PAYMENTS = "HANDLE_PAYMENTS"


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A Saleor staff user calling from the Dashboard, as their token (``thirdparty``) says."""

    installation: Installation
    user_id: str
    email: str
    permissions: frozenset[str]

    @property
    def actor(self) -> Actor:
        return Actor.staff(email=self.email, user_id=self.user_id)

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True, slots=True)
class Shopper:
    """A signed-in customer (Saleor ``access`` token) or a guest who proved one order (id + e-mail)."""

    installation: Installation
    email: str
    saleor_user_id: str = ""
    guest_order_id: str = ""

    @property
    def is_guest(self) -> bool:
        return bool(self.guest_order_id)

    @property
    def actor(self) -> Actor:
        return Actor.customer(email=self.email)

    @property
    def scope(self) -> ShopperScope:
        return ShopperScope(
            installation=self.installation,
            email=self.email,
            saleor_user_id=self.saleor_user_id,
            guest_order_id=self.guest_order_id,
        )


@dataclass
class Context(StrawberryDjangoContext):
    staff: StaffUser | None = None
    shopper: Shopper | None = None

    def get_staff(self) -> StaffUser:
        if self.staff is None:
            raise RuntimeError("staff resolver ran without an authenticated staff user")
        return self.staff

    def get_shopper(self) -> Shopper:
        if self.shopper is None:
            raise RuntimeError("shopper resolver ran without an authenticated shopper")
        return self.shopper


Info = strawberry.Info[Context, None]
