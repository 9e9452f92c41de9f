import pytest

from tests.fixtures.wsgi_client import WsgiClient


@pytest.fixture(params=["django", "fastpath"])
def intake_client(request, client):
    """Each intake test runs twice: through Django's test client (the Django view) and through the production
    WSGI application, whose fast path answers POSTs to /api/webhooks/* without Django's request machinery."""
    if request.param == "django":
        return client
    from saleor_support_plugin.project.wsgi import application
    from saleor_support_plugin.webhooks.fastpath import WebhookFastPath

    assert isinstance(application, WebhookFastPath), "production WSGI app should serve webhooks by the fast path"
    return WsgiClient(application)
