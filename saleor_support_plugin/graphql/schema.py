"""Build a schema from per-domain Query/Mutation classes (docs/architecture principle 16).

Each domain module (``staff/cases.py``, ``staff/orders.py``, later refunds, returns, feedback, metrics,
GDPR) exposes a ``Query`` and/or ``Mutation`` class; ``staff/schema.py`` and ``shopper/schema.py`` list
them and this merges them, so a new domain is one line in that list.
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.extensions import MaskErrors, QueryDepthLimiter
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from saleor_support_plugin.graphql.errors import should_mask_error

# Deep enough for case → customerHistory → cases → customer; a deeper document is abuse, refused before it runs.
MAX_QUERY_DEPTH = 10


def build_schema(*, queries: Sequence[type], mutations: Sequence[type]) -> strawberry.Schema:
    return strawberry.Schema(
        query=merge_types("Query", tuple(queries)),
        mutation=merge_types("Mutation", tuple(mutations)) if mutations else None,
        extensions=[
            DjangoOptimizerExtension,
            lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
            lambda: MaskErrors(should_mask_error=should_mask_error, error_message="Unexpected error."),
        ],
    )
