"""Django settings, read once from the environment.

Every variable is documented in README.md ("Configuration"). Application code never reads
``os.environ``; it reads ``saleor_support_plugin.conf.support_settings()``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("SUPPORT_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_rate(name: str, default: str) -> tuple[int, int]:
    """``"<count>/<seconds>"`` → (count, seconds); ``"0"`` (or an empty value) → (0, 0), meaning no limit."""
    raw = os.environ.get(name, default).strip()
    if raw in ("", "0"):
        return (0, 0)
    count, _, seconds = raw.partition("/")
    try:
        rate = (int(count), int(seconds))
    except ValueError:
        rate = (-1, -1)
    if rate[0] < 0 or rate[1] <= 0:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f'{name} must look like "5/600" (count/seconds) or be 0, not {raw!r}')
    return rate


DEBUG = _env_bool("DEBUG", False)
# The dev default is only usable because `make run` binds to 127.0.0.1; README says to set it in production.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-secret-key-change-me")
PORT = int(os.environ.get("PORT", "8000"))
APP_URL = os.environ.get("APP_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "*")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "saleor_support_plugin.apps.SupportConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
# Saleor POSTs to exact URLs and never follows redirects: a slash-appending redirect would fail installs.
APPEND_SLASH = False
ROOT_URLCONF = "saleor_support_plugin.project.urls"
WSGI_APPLICATION = "saleor_support_plugin.project.wsgi.application"
TEMPLATES: list[dict] = []

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'support.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The webhook view and the worker write concurrently under `make run`; wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# Saleor never sends more than a few hundred kB; anything larger is refused before it is read.
SUPPORT_WEBHOOK_MAX_BODY_BYTES = int(os.environ.get("WEBHOOK_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = SUPPORT_WEBHOOK_MAX_BODY_BYTES

# Fernet keys (comma separated, newest first) that encrypt Saleor app tokens at rest.
SUPPORT_ENCRYPTION_KEYS = _env_list("ENCRYPTION_KEYS")
SUPPORT_ALLOWED_SALEOR_URLS = _env_list("ALLOWED_SALEOR_URLS")
SUPPORT_APP_ID = os.environ.get("SUPPORT_APP_ID", "saleor.support.cases")
SUPPORT_APP_NAME = os.environ.get("SUPPORT_APP_NAME", "Support Cases")
SUPPORT_SALEOR_TIMEOUT_SECONDS = float(os.environ.get("SALEOR_TIMEOUT_SECONDS", "10"))
SUPPORT_POLL_INTERVAL_SECONDS = int(os.environ.get("POLL_INTERVAL_SECONDS", "120"))
SUPPORT_POLL_OVERLAP_SECONDS = int(os.environ.get("POLL_OVERLAP_SECONDS", "300"))
SUPPORT_SWEEP_INTERVAL_SECONDS = int(os.environ.get("SWEEP_INTERVAL_SECONDS", "60"))
SUPPORT_DELAY_SCAN_INTERVAL_SECONDS = int(os.environ.get("DELAY_SCAN_INTERVAL_SECONDS", "300"))
# How often the SLA scan looks for warnings and breaches (services/sla/scan.py).
SUPPORT_SLA_SCAN_INTERVAL_SECONDS = int(os.environ.get("SLA_SCAN_INTERVAL_SECONDS", "60"))
# The webhook view may accept using an installation row read this many seconds ago (refusals always re-read
# it): a deactivation or removed key can take this long to be seen by every web process. 0 turns it off.
SUPPORT_INSTALLATION_CACHE_SECONDS = float(os.environ.get("INSTALLATION_CACHE_SECONDS", "2"))
# GraphQL API (graphql/): requests above this size are refused with 413 before they are parsed.
SUPPORT_GRAPHQL_MAX_BODY_BYTES = int(os.environ.get("GRAPHQL_MAX_BODY_BYTES", str(256 * 1024)))
# When set, shopper tokens must come from tokenCreate(audience: "<value>") (claim aud == "custom:<value>").
SUPPORT_SHOPPER_TOKEN_AUDIENCE = os.environ.get("SHOPPER_TOKEN_AUDIENCE", "")
# Browser origins (scheme://host[:port], comma-separated; "*" = any) allowed to call /graphql/shopper/ from a
# storefront page. Empty: no CORS headers at all (storefronts that call from their server need none).
SUPPORT_SHOPPER_CORS_ORIGINS = _env_list("SHOPPER_CORS_ORIGINS")
# Shopper mutations that create things (caseOpen, returnRequestCreate, refundRequest), "<count>/<seconds>"
# per shopper and per client IP within one installation; "0" turns a limit off (graphql/throttle.py).
SUPPORT_SHOPPER_RATE_LIMIT = _env_rate("SHOPPER_RATE_LIMIT", "5/600")
SUPPORT_SHOPPER_IP_RATE_LIMIT = _env_rate("SHOPPER_IP_RATE_LIMIT", "50/600")
# Messages a shopper may add to their cases (caseMessageAdd) per window; each is triaged by the AI.
SUPPORT_SHOPPER_MESSAGE_RATE_LIMIT = _env_rate("SHOPPER_MESSAGE_RATE_LIMIT", "30/600")
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 = use the socket's address.
SUPPORT_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# bench/ingest.py only: mounts /bench/bare (a view that just inserts the body) for a baseline. Never in production.
SUPPORT_BENCH_ENDPOINTS = _env_bool("SUPPORT_BENCH_ENDPOINTS", False)
# POSTs to /api/webhooks/* are answered by a WSGI fast path (webhooks/fastpath.py) that skips Django's
# middleware and request signals; WEBHOOK_FAST_PATH=0 serves them through Django (e.g. for APM hooked into middleware).
SUPPORT_WEBHOOK_FAST_PATH = _env_bool("WEBHOOK_FAST_PATH", True)

# E-mail. EMAIL_URL (smtp://user:pass@host:587?tls=1, smtps://… for implicit TLS) or EMAIL_HOST & co. select
# SMTP; with neither, mail is written to files under var/mail so `make run` needs no mail server.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_URL"):
    from urllib.parse import parse_qs, unquote, urlsplit

    _email_url = urlsplit(os.environ["EMAIL_URL"])
    _email_query = parse_qs(_email_url.query)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email_url.hostname or "localhost"
    EMAIL_USE_SSL = _email_url.scheme == "smtps"
    EMAIL_USE_TLS = not EMAIL_USE_SSL and _email_query.get("tls", ["0"])[0].lower() in {"1", "true", "yes"}
    EMAIL_PORT = _email_url.port or (465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
    EMAIL_HOST_USER = unquote(_email_url.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email_url.password or "")
elif os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# Shoppers reply to case+<token>@SUPPORT_REPLY_DOMAIN; route that domain's mail to the inbound webhook or mailbox.
SUPPORT_REPLY_DOMAIN = os.environ.get("REPLY_DOMAIN", "localhost")
SUPPORT_IMAP_POLL_INTERVAL_SECONDS = int(os.environ.get("IMAP_POLL_INTERVAL_SECONDS", "60"))
SUPPORT_IMAP_TIMEOUT_SECONDS = float(os.environ.get("IMAP_TIMEOUT_SECONDS", "30"))
SUPPORT_INBOUND_EMAIL_MAX_BYTES = int(os.environ.get("INBOUND_EMAIL_MAX_BYTES", str(10 * 1024 * 1024)))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost//")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker of `make run`: a folder of message files shared by web and worker.
    _queue_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # acks_late + a visibility timeout longer than our hard time limit: a killed worker's task is redelivered.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("VISIBILITY_TIMEOUT", "600"))}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
