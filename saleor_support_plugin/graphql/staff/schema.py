"""The staff schema, mounted at /graphql/staff/ for the Dashboard extension (Saleor staff token)."""

from __future__ import annotations

from saleor_support_plugin.graphql.schema import build_schema
from saleor_support_plugin.graphql.staff import cases, macros, orders

QUERIES: tuple[type, ...] = (cases.Query, macros.Query)
MUTATIONS: tuple[type, ...] = (cases.Mutation, orders.Mutation, macros.Mutation)

schema = build_schema(queries=QUERIES, mutations=MUTATIONS)
