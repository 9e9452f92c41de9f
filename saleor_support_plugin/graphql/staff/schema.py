"""The staff schema, mounted at /graphql/staff/ for the Dashboard extension (Saleor staff token)."""

from __future__ import annotations

from saleor_support_plugin.graphql.schema import build_schema
from saleor_support_plugin.graphql.staff import ai, cases, feedback, gdpr, macros, metrics, orders, refunds, returns

QUERIES: tuple[type, ...] = (cases.Query, macros.Query, metrics.Query, feedback.Query, refunds.Query, returns.Query,
                             ai.Query)  # fmt: skip
MUTATIONS: tuple[type, ...] = (cases.Mutation, orders.Mutation, macros.Mutation, feedback.Mutation, gdpr.Mutation,
                               refunds.Mutation, returns.Mutation, ai.Mutation)  # fmt: skip

schema = build_schema(queries=QUERIES, mutations=MUTATIONS)
