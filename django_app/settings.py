"""Settings for the Django REST framework app, read from the environment.

https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from contract import flag, host_list, setting

# ------------------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------------------
# production (default), local (make serve-django) or test.
DJANGO_ENV = os.environ.get("DJANGO_ENV", "production")
DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() in {"1", "true", "yes"}

# Nothing here signs data (no sessions, CSRF or messages), but Django refuses to run without a
# key, and a production process must not run on a key that is in the repository.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DJANGO_ENV not in {"local", "test"}:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value, or set "
            "DJANGO_ENV=local for a local run."
        )
    SECRET_KEY = f"insecure-{DJANGO_ENV}-only-key"

ALLOWED_HOSTS = host_list(setting("ALLOWED_HOSTS"))
ROOT_URLCONF = "django_app.urls"
WSGI_APPLICATION = "django_app.wsgi.application"
USE_TZ = True
# A stateless JSON API: no database, no sessions, no templates.
DATABASES: dict = {}
INSTALLED_APPS = [
    "django_app.apps.ApiConfig",
    "rest_framework",
]

# ------------------------------------------------------------------------------------------
# Middleware: security and common, as in production; nothing for cookies, sessions, CSRF or
# messages, which a stateless JSON API never uses.
# ------------------------------------------------------------------------------------------
MIDDLEWARE = [
    # First, so that it times and counts every answer, those of the middleware below included.
    "django_app.middleware.MetricsMiddleware",
    "django_app.middleware.ContractHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before CommonMiddleware, so a request it refuses (a disallowed Host) still gets the header.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.common.CommonMiddleware",
]
APPEND_SLASH = False

# ------------------------------------------------------------------------------------------
# Security headers (https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security)
# ------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
X_FRAME_OPTIONS = "DENY"
# Cross-Origin-Opener-Policy isolates browsing contexts of HTML documents; the contract serves
# JSON only and lists the headers both apps send.
SECURE_CROSS_ORIGIN_OPENER_POLICY = None

# ------------------------------------------------------------------------------------------
# Deployment checks answered elsewhere (`django-admin check --deploy`, which a test runs with
# --fail-level WARNING; https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/)
# ------------------------------------------------------------------------------------------
SILENCED_SYSTEM_CHECKS = [
    # W003, no CsrfViewMiddleware: a cross-site request can only ride a credential the browser
    # adds by itself, a cookie. This API sets none, authenticates nothing by one and takes JSON
    # only (a form post gets 415), so the middleware would protect nothing; DRF's APIView exempts
    # its views from it anyway, and the Flask app has no counterpart.
    "security.W003",
    # W004 (SECURE_HSTS_SECONDS) and W008 (SECURE_SSL_REDIRECT): TLS ends in front of the apps,
    # at the load balancer or Ingress ahead of nginx (deploy/nginx.conf serves plain HTTP to
    # it). The redirect to HTTPS and the Strict-Transport-Security header belong to that hop,
    # the only one that sees the client's scheme; a browser ignores HSTS sent over plain HTTP.
    # Neither app sends them, so both answer with the same headers (tests/test_contract.py).
    "security.W004",
    "security.W008",
]

# ------------------------------------------------------------------------------------------
# The model and the contract's limits (same names and defaults as the Flask app)
# ------------------------------------------------------------------------------------------
MODEL_VARIANT = setting("MODEL_VARIANT")
MODEL_DIR = setting("MODEL_DIR")
MAX_BATCH_SIZE = int(setting("MAX_BATCH_SIZE"))
MAX_BODY_BYTES = int(setting("MAX_BODY_BYTES"))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
# GET /metrics and the recording behind it; off, MetricsMiddleware is unused and /metrics is a 404.
METRICS_ENABLED = flag(setting("METRICS_ENABLED"))
# Adaptive batching (model/batching.py); off unless BATCH_MAX_SIZE is 2 or more.
BATCH_MAX_SIZE = setting("BATCH_MAX_SIZE")
BATCH_MAX_WAIT_MS = setting("BATCH_MAX_WAIT_MS")
BATCH_MAX_QUEUE = setting("BATCH_MAX_QUEUE")

# ------------------------------------------------------------------------------------------
# Django REST framework (https://www.django-rest-framework.org/api-guide/settings/)
# ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["django_app.codec.ContractJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["django_app.codec.ContractJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "django_app.codec.JSONOnlyNegotiation",
    # A public prediction API: no users, no sessions. Authentication, if needed, belongs in
    # front of both apps alike. These defaults cost about 15% of throughput when left on.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "django_app.exceptions.exception_handler",
}

# ------------------------------------------------------------------------------------------
# Logging: unhandled exceptions (with tracebacks) to stderr, which gunicorn collects; Django's
# default sends them to mail_admins only when DEBUG is off. Client errors (4xx) are answered,
# not logged, as in the Flask app: a log line per bad request would be a cost only one app pays.
# ------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "stderr": {"class": "logging.StreamHandler"},
        "null": {"class": "logging.NullHandler"},
    },
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        # A refused Host is a client error like any other; Django logs it with a traceback.
        # https://docs.djangoproject.com/en/5.2/topics/logging/#django-security
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
    },
}
