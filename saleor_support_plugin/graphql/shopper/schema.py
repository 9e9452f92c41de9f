"""The shopper schema, mounted at /graphql/shopper/ for storefronts (customer token or guest order proof).

A separate schema, not permissions on one schema: a staff field cannot leak here through a forgotten check.
"""

from __future__ import annotations

from saleor_support_plugin.graphql.schema import build_schema
from saleor_support_plugin.graphql.shopper import cases, feedback, knowledge, returns

QUERIES: tuple[type, ...] = (cases.Query, returns.Query, knowledge.Query)
MUTATIONS: tuple[type, ...] = (cases.Mutation, feedback.Mutation, returns.Mutation)

schema = build_schema(queries=QUERIES, mutations=MUTATIONS)
