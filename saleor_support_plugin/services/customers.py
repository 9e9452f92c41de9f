"""One history per shopper."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from saleor_support_plugin.errors import PermanentError, SupportErrorCode
from saleor_support_plugin.models import Customer, Installation


def normalize_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise PermanentError(SupportErrorCode.INVALID, "A valid e-mail address is required.", field="email") from exc
    return email


def customer_get_or_create(
    *, installation: Installation, email: str, saleor_user_id: str = "", name: str = "", language_code: str = ""
) -> Customer:
    """The customer with this e-mail in this installation, created if new; fills in ids we learn later.

    Writes: Customer (insert, or update of empty saleor_user_id/name/language_code).
    """
    normalized = normalize_email(email)
    customer = Customer.objects.filter(installation=installation, email=normalized).first()
    if customer is None:
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    installation=installation,
                    email=normalized,
                    saleor_user_id=saleor_user_id,
                    name=name[:255],
                    language_code=language_code,
                )
        except IntegrityError:
            customer = Customer.objects.get(installation=installation, email=normalized)
    updates = {
        field: value
        for field, value in (("saleor_user_id", saleor_user_id), ("name", name[:255]), ("language_code", language_code))
        if value and not getattr(customer, field)
    }
    if updates:
        for field, value in updates.items():
            setattr(customer, field, value)
        customer.save(update_fields=[*updates, "updated_at"])
    return customer
