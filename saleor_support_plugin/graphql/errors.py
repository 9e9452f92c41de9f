"""Our error family in GraphQL, the way Saleor's API shows errors (docs/architecture §2.3, principle 16).

- A service error (``SupportError``) caught by a mutation becomes ``errors: [SupportError{field code message}]``
  in the payload, with ``code`` from the ``SupportErrorCode`` enum. Transient failures (``RetryableError``)
  always carry TEMPORARILY_UNAVAILABLE so clients can offer "try again".
- A query that cannot answer (bad cursor, missing permission) raises a top-level GraphQL error whose
  ``extensions.code`` is one of the same codes.
- Anything else is a bug: its message is masked (``should_mask_error``) and strawberry logs it.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

from saleor_support_plugin.errors import RetryableError, SupportError
from saleor_support_plugin.errors import SupportErrorCode as Code

# A copy of the Python enum (not a decorated original), so codes added to errors.py appear here by themselves.
SupportErrorCode = strawberry.enum(
    Enum("SupportErrorCode", {code.name: code.value for code in Code}),  # type: ignore[misc]
    name="SupportErrorCode",
    description="Why an operation failed; the same codes appear in payload errors and in extensions.code.",
)


@strawberry.type(name="SupportError", description="One problem with the input or the operation, Saleor-style.")
class SupportErrorType:
    field: str | None = strawberry.field(description="The input field at fault (camelCase), if one is.")
    code: SupportErrorCode  # type: ignore[valid-type]
    message: str


def error_list(exc: SupportError, *, rename: dict[str, str] | None = None) -> list[SupportErrorType]:
    """The payload errors for ``exc``; ``rename`` maps a service's field name to this mutation's argument."""
    code = Code.TEMPORARILY_UNAVAILABLE if isinstance(exc, RetryableError) else exc.code
    field = to_camel_case(exc.field) if exc.field else None
    field = (rename or {}).get(field or "", field)
    return [SupportErrorType(field=field, code=SupportErrorCode[code.name], message=exc.message)]


def error_extensions(code: Code) -> dict[str, str]:
    return {"code": code.value}


def graphql_error(exc: SupportError) -> GraphQLError:
    """A top-level error for a query that cannot answer (queries have no payload to carry errors)."""
    code = Code.TEMPORARILY_UNAVAILABLE if isinstance(exc, RetryableError) else exc.code
    return GraphQLError(exc.message, extensions=error_extensions(code))


def should_mask_error(error: GraphQLError) -> bool:
    """Mask unexpected exceptions only: validation errors and errors we raise on purpose stay as they are."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)
