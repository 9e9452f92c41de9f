"""``/graphql/staff/`` (Dashboard) and ``/graphql/shopper/`` (storefront). GraphiQL only with DEBUG."""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from saleor_support_plugin.graphql.auth import shopper_authenticate, staff_authenticate
from saleor_support_plugin.graphql.cors import shopper_cors
from saleor_support_plugin.graphql.shopper.schema import schema as shopper_schema
from saleor_support_plugin.graphql.staff.schema import schema as staff_schema
from saleor_support_plugin.graphql.views import SupportGraphQLView

IDE = "graphiql" if settings.DEBUG else None

# csrf_exempt: callers authenticate with a bearer token in a header, never a cookie, so there is no
# ambient credential a cross-site form could ride on. CORS only for the shopper endpoint (graphql/cors.py).
urlpatterns = [
    path(
        "staff/",
        csrf_exempt(
            SupportGraphQLView.as_view(
                schema=staff_schema, graphql_ide=IDE, authenticate=staff_authenticate, principal="staff"
            )
        ),
        name="graphql-staff",
    ),
    path(
        "shopper/",
        csrf_exempt(
            shopper_cors(
                SupportGraphQLView.as_view(
                    schema=shopper_schema, graphql_ide=IDE, authenticate=shopper_authenticate, principal="shopper"
                )
            )
        ),
        name="graphql-shopper",
    ),
]
