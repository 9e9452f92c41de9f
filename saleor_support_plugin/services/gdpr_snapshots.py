"""What erasure leaves in an order or checkout snapshot, and the tombstones that keep it that way.

This is the one place that says which snapshot fields carry the shopper and what they look like erased.
``customer_data_erase`` applies it to the snapshots it finds and tombstones their objects
(``ErasedObject``); the snapshot upserts apply it to every later state of a tombstoned object, because
Saleor keeps the orders of deleted customers (accounting) and keeps sending them with the e-mail and
address. Without that, the next ORDER_UPDATED or poll would quietly undo the erasure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from saleor_support_plugin.models import (
    CheckoutSnapshot,
    ErasedObject,
    ErasedObjectKind,
    Installation,
    OrderSnapshot,
    TransactionSnapshot,
    WebhookEvent,
)

ERASED = "[erased]"
# What an erased inbox row's raw body becomes: valid JSON that no payload model accepts, so a replay
# fails visibly instead of acting on nothing.
ERASED_BODY = '{"erased": true}'
MIN_NAME_NEEDLE = 3


@dataclass(frozen=True)
class PersonalFields:
    """A snapshot model's personal fields: ``cleared`` ones go back to the field's empty default,
    ``scrubbed`` ones (free-form JSON) keep their shape but every string mentioning the shopper becomes ERASED."""

    cleared: tuple[str, ...] = ()
    scrubbed: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.cleared, *self.scrubbed)


PERSONAL_SNAPSHOT_FIELDS: dict[type, PersonalFields] = {
    OrderSnapshot: PersonalFields(
        cleared=("user_email", "saleor_user_id", "shipping_address"), scrubbed=("events", "metadata", "fulfillments")
    ),
    CheckoutSnapshot: PersonalFields(cleared=("email", "saleor_user_id", "shipping_address"), scrubbed=("metadata",)),
    # Amounts, psp references and the app that created it: nothing that names the shopper.
    TransactionSnapshot: PersonalFields(),
}
SNAPSHOT_KINDS: dict[type, str] = {
    OrderSnapshot: ErasedObjectKind.ORDER,
    CheckoutSnapshot: ErasedObjectKind.CHECKOUT,
    TransactionSnapshot: ErasedObjectKind.TRANSACTION,
}


def scrub(value: object, needles: tuple[str, ...]) -> object:
    """``value`` with every string that mentions a needle (case-insensitively) replaced by ``ERASED``."""
    if isinstance(value, dict):
        return {key: scrub(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, needles) for item in value]
    if isinstance(value, str) and any(needle in value.lower() for needle in needles):
        return ERASED
    return value


def erasure_needles(*, emails: Iterable[str | None], names: Iterable[str | None] = ()) -> tuple[str, ...]:
    """The lower-cased strings whose mention makes a value the shopper's: e-mails, and names of 3+ characters."""
    found = {email.strip().lower() for email in emails if email and email.strip()}
    found |= {name.strip().lower() for name in names if name and len(name.strip()) >= MIN_NAME_NEEDLE}
    return tuple(sorted(found))


def address_name(address: dict | None) -> str:
    """ "First Last" of a Saleor address dict (camelCase keys), or ""."""
    address = address or {}
    return f"{address.get('firstName') or ''} {address.get('lastName') or ''}".strip()


def personal_fields_erase(model: type, values: dict, needles: tuple[str, ...]) -> dict:
    """``values`` (field name → value, of a row or of an upsert) with the personal fields in their erased form."""
    spec = PERSONAL_SNAPSHOT_FIELDS[model]
    erased = dict(values)
    for name in spec.cleared:
        if name in erased:
            erased[name] = model._meta.get_field(name).get_default()
    for name in spec.scrubbed:
        if name in erased:
            erased[name] = scrub(erased[name], needles)
    return erased


def snapshot_personal_erase(row: OrderSnapshot | CheckoutSnapshot, needles: tuple[str, ...]) -> list[str]:
    """Erase the row's personal fields in place (no save); return their names for ``update_fields``."""
    names = PERSONAL_SNAPSHOT_FIELDS[type(row)].names
    current = {name: getattr(row, name) for name in names}
    for name, value in personal_fields_erase(type(row), current, needles).items():
        setattr(row, name, value)
    return list(names)


def erased_objects_record(*, installation: Installation, ids_by_model: dict[type, Iterable[str]]) -> None:
    """Tombstone these Saleor objects. Writes: ErasedObject (existing tombstones are kept as they are)."""
    rows = [
        ErasedObject(installation=installation, kind=SNAPSHOT_KINDS[model], saleor_id=saleor_id)
        for model, ids in ids_by_model.items()
        for saleor_id in sorted(set(ids))
        if saleor_id
    ]
    ErasedObject.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


def erased_object_exists(*, installation: Installation, saleor_id: str) -> bool:
    """Whether the shopper data of this order/checkout/transaction was erased (it has a tombstone)."""
    if not saleor_id:
        return False
    return ErasedObject.objects.filter(installation=installation, saleor_id=saleor_id).exists()


def snapshot_fields_guard(
    model: type, *, installation: Installation, saleor_id: str, fields: dict, needles: tuple[str, ...]
) -> dict:
    """The fields an upsert may write: as given, or with the personal ones erased if the object is tombstoned.

    Non-personal facts (status, money, fulfilment, timestamps) always pass, so metrics and SLAs stay true.
    """
    if not PERSONAL_SNAPSHOT_FIELDS[model].names:
        return fields
    if not erased_object_exists(installation=installation, saleor_id=saleor_id):
        return fields
    return personal_fields_erase(model, fields, needles)


def transaction_tombstone_inherit(*, installation: Installation, tx: TransactionSnapshot) -> None:
    """Tombstone a transaction of a tombstoned order or checkout, even one we first see after the erasure.

    Its webhook and poll bodies carry the owner's shopper e-mail (``checkout { email }``), and its rules
    are its owner's. The owner is the order if it has one, else the checkout, as for the rules. Writes:
    ErasedObject for the transaction, if its owner has one and it does not.
    """
    owner = tx.order_saleor_id or tx.checkout_saleor_id
    if not owner:
        return
    found = set(
        ErasedObject.objects.filter(installation=installation, saleor_id__in=[tx.saleor_id, owner]).values_list(
            "saleor_id", flat=True
        )
    )
    if owner in found and tx.saleor_id not in found:
        erased_objects_record(installation=installation, ids_by_model={TransactionSnapshot: [tx.saleor_id]})


def inbox_body_erase_due(event: WebhookEvent) -> bool:
    """Whether a handled inbox row is about a tombstoned object and still holds its raw body.

    The snapshot took the row's facts and left the shopper out; the inbox must not keep them either.
    """
    if not event.object_id or event.raw_body == ERASED_BODY:
        return False
    return ErasedObject.objects.filter(installation_id=event.installation_id, saleor_id=event.object_id).exists()
