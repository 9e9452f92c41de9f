"""Build a schema from per-domain Query/Mutation classes (docs/architecture principle 16).

Each domain module (``staff/cases.py``, ``staff/orders.py``, ``staff/macros.py``; later refunds, returns,
feedback, metrics, GDPR) exposes a ``Query`` and/or ``Mutation`` class; ``staff/schema.py`` and
``shopper/schema.py`` list them and this merges them, so a new domain is one line in that list.
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.extensions import AddValidationRules, MaskErrors, ParserCache, ValidationCache
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from saleor_support_plugin.graphql.errors import should_mask_error

# Deep enough for case → customerHistory → cases → customer; a deeper document is abuse, refused before it runs.
MAX_QUERY_DEPTH = 10
# Distinct documents whose parse and validation are remembered (clients send a handful of fixed documents).
DOCUMENT_CACHE_SIZE = 256
# One rule class for the process: ValidationCache keys on the rule classes, and QueryDepthLimiter would make
# a new class per request, so validation would never be served from the cache.
_DEPTH_RULE = create_validator(MAX_QUERY_DEPTH, None, None)


class DepthLimit(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([_DEPTH_RULE])


def build_schema(*, queries: Sequence[type], mutations: Sequence[type]) -> strawberry.Schema:
    return strawberry.Schema(
        query=merge_types("Query", tuple(queries)),
        mutation=merge_types("Mutation", tuple(mutations)) if mutations else None,
        extensions=[
            DjangoOptimizerExtension,
            DepthLimit,  # before ValidationCache: it adds the rule the cached validation runs
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: MaskErrors(should_mask_error=should_mask_error, error_message="Unexpected error."),
        ],
    )
