"""WSGI fast path for Saleor's webhooks: ``POST /api/webhooks/<event>`` without Django's request machinery.

Saleor's webhooks are the app's hottest URL (bench/ingest.py), and for them Django's handler, middleware,
URL resolver, request object and response object cost more CPU than the intake itself. This WSGI wrapper
answers those POSTs from ``webhook_receive`` (the same function the Django view calls, so both give the same
answers) and passes every other request to Django untouched.

What it keeps from Django's request cycle: the ``ALLOWED_HOSTS`` check, the database connection lifecycle of
``request_started`` / ``request_finished`` (``close_old_connections``, which honours ``CONN_MAX_AGE`` and drops
broken connections), the security headers SecurityMiddleware would add, and logging of an unexpected error
(as a 500, so Saleor retries). What it skips: middleware and request signals, so instrumentation hooked
into those (APM, Sentry's Django integration) does not see webhook requests; ``WEBHOOK_FAST_PATH=0``
serves them through Django instead.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.conf import settings
from django.db import close_old_connections, connection, reset_queries
from django.http.request import split_domain_port, validate_host

from saleor_support_plugin.conf import support_settings
from saleor_support_plugin.errors import SupportErrorCode
from saleor_support_plugin.webhooks.intake import EnvironHeaders, webhook_receive
from saleor_support_plugin.webhooks.responses import Answer, simple_answer

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/api/webhooks/"

_HEADERS = (
    ("Content-Type", "application/json"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def _host_allowed(environ: dict) -> bool:
    """Django's ``HttpRequest.get_host()`` check, without building a request."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        host = environ["HTTP_HOST"]
    else:
        host = environ.get("SERVER_NAME", "")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _read_body(environ: dict) -> bytes | None:
    """The exact request body, or None when it is (or says it is) larger than the webhook limit."""
    limit = support_settings().webhook_max_body_bytes
    raw_length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            return None
        if length < 0 or length > limit:
            return None
        return stream.read(length) if length else b""
    body = stream.read(limit + 1)  # chunked: read no more than one byte past the limit
    return None if len(body) > limit else body


def _bench_bare(environ: dict) -> Answer:
    from saleor_support_plugin.webhooks.bench_views import bare_insert

    body = _read_body(environ)
    if body is None:
        return simple_answer(413, SupportErrorCode.PAYLOAD_TOO_LARGE, "Body too large.")
    return bare_insert(body)


class WebhookFastPath:
    """Wrap Django's WSGI application; see the module docstring."""

    def __init__(self, app) -> None:
        self.app = app
        self.bench_bare_path = "/bench/bare" if settings.SUPPORT_BENCH_ENDPOINTS else None

    def __call__(self, environ: dict, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path.startswith(WEBHOOK_PREFIX):
            answer = self._serve(environ, path[len(WEBHOOK_PREFIX) :])
        elif path == self.bench_bare_path:
            answer = self._serve(environ, None)
        else:
            return self.app(environ, start_response)
        body = answer.body()
        start_response(_status_line(answer.status), [*_HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    def _serve(self, environ: dict, event_path: str | None) -> Answer:
        if not _host_allowed(environ):
            return simple_answer(400, SupportErrorCode.INVALID, "Invalid Host header.")
        # Inside an atomic block (tests calling the app in-process) the connection is the caller's: leave it.
        manage_connection = not connection.in_atomic_block
        if manage_connection:
            reset_queries()
            close_old_connections()
        try:
            if event_path is None:
                return _bench_bare(environ)
            return webhook_receive(
                event_path=event_path, headers=EnvironHeaders(environ), read_body=lambda: _read_body(environ)
            )
        except Exception:
            # As Django would: log it and answer 500, which Saleor retries. Nothing was committed for this
            # request unless the insert itself succeeded, and then a retry is answered "duplicate".
            logger.exception("webhook intake failed", extra={"path": environ.get("PATH_INFO", "")})
            return simple_answer(500, SupportErrorCode.TEMPORARILY_UNAVAILABLE, "Internal error; retry later.")
        finally:
            if manage_connection:
                close_old_connections()
