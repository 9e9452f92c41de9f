from django.http import JsonResponse
from django.urls import path

from saleor_support_plugin.webhooks import views


def health_view(_request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("api/manifest", views.manifest_view, name="saleor-manifest"),
    path("api/register", views.register_view, name="saleor-register"),
    path("api/webhooks/<slug:event_path>", views.saleor_webhook_view, name="saleor-webhook"),
    path("healthz", health_view, name="health"),
]
