import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_support_plugin.project.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 (needs the settings module set above)

if settings.SUPPORT_WEBHOOK_FAST_PATH:
    from saleor_support_plugin.webhooks.fastpath import WebhookFastPath

    application = WebhookFastPath(application)
