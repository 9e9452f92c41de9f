from django.conf import settings
from django.http import JsonResponse
from django.urls import include, path

from saleor_support_plugin.http import feedback_views
from saleor_support_plugin.webhooks import inbound_views, views


def health_view(_request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("api/manifest", views.manifest_view, name="saleor-manifest"),
    path("api/register", views.register_view, name="saleor-register"),
    path("api/webhooks/<slug:event_path>", views.saleor_webhook_view, name="saleor-webhook"),
    path("api/inbound-email/<str:token>", inbound_views.inbound_email_view, name="inbound-email"),
    path("api/feedback/<int:installation_id>/<str:token>", feedback_views.feedback_answer_view, name="feedback-answer"),
    path("healthz", health_view, name="health"),
    path("graphql/", include("saleor_support_plugin.graphql.urls")),
]

if settings.SUPPORT_BENCH_ENDPOINTS:
    from saleor_support_plugin.webhooks import bench_views

    urlpatterns.append(path("bench/bare", bench_views.bare_insert_view, name="bench-bare"))
