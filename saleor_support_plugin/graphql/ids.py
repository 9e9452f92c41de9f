"""Global ids in Saleor's format: base64 of ``"<Type>:<pk>"`` (``Case:42`` → ``Q2FzZTo0Mg==``).

The type name is part of the id, so an id of another type, a malformed id and an id of another
installation's row all end the same way: NOT_FOUND.
"""

from __future__ import annotations

import base64
import binascii

MAX_ID_LENGTH = 128


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def global_id_decode(value: str | None, *, type_name: str) -> int | None:
    """The primary key inside ``value`` if it is a well-formed id of ``type_name``; otherwise None."""
    if not value or len(value) > MAX_ID_LENGTH:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, _, raw_pk = decoded.partition(":")
    if name != type_name or not raw_pk.isdigit() or len(raw_pk) > 18:
        return None
    return int(raw_pk)
