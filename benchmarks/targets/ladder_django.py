"""Django's ladder: the reference app, then one production feature per rung.

Each rung is the rung before it plus one feature, added the way Django's community adds it: a
setting, an installed app, a middleware, DRF's own classes. Rungs are built on demand
(``ladder_django:cors`` configures Django for that rung alone, in a process of its own), from
the reference app's settings module (``django_app.settings``). They answer the same one-row
prediction with the same body as the reference app; only the token rung needs a request header
(``Authorization: Token ...``, ``targets.LADDER_TOKEN``).

Security headers (``SecurityMiddleware``) and request validation (a DRF serializer) are already
in the reference app, so they have no rung here: on this side they come built in.

The rungs Flask's ladder has too answer alike (tests/benchmarks/test_ladder_parity.py). The
reference app's exception handler writes the contract's error body but, never answering 401 or
429, not the headers DRF's own handler adds to them; from the limits rung up the rung's handler
(``exception_handler``) adds them back: ``WWW-Authenticate`` and ``Retry-After``. The token rung
is DRF's ``TokenAuthentication``: the key looked up in the SQLite database, as Flask's token
rung looks it up in its own SQLite table.

``LADDER_RATE`` (throttle rate per client and minute) and ``LADDER_TOKEN`` (the one accepted
token) come from the environment, as in ``ladder_flask``.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

import django
from django.db import connections

from benchmarks.targets import LADDER_TOKEN, LADDERS, ladder_rate, startproject

RUNGS = tuple(rung.feature for rung in LADDERS["django"][2:])  # past the floor and the app


def _reference() -> dict[str, Any]:
    """Return the reference app's settings as a dict."""
    module = importlib.import_module("django_app.settings")
    return {name: getattr(module, name) for name in dir(module) if name.isupper()}


def _own(middleware: list[str]) -> list[str]:
    """Return the reference app's own middleware, which lead its list."""
    return list(itertools.takewhile(lambda name: name.startswith("django_app."), middleware))


def _defaults(s: dict[str, Any]) -> None:
    # The contract's own middleware (its metrics, then its headers: Cache-Control, the request
    # ID) stays first, as in the reference app.
    s["INSTALLED_APPS"] = [*startproject.INSTALLED_APPS, *s["INSTALLED_APPS"]]
    s["MIDDLEWARE"] = [*_own(s["MIDDLEWARE"]), *startproject.MIDDLEWARE]
    # SQLite, as startproject configures; the file is the rung's, migrated (``_database``).
    s["DATABASES"] = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ""}}
    s["TEMPLATES"] = startproject.TEMPLATES
    s["STATIC_URL"] = "static/"
    s["DEFAULT_AUTO_FIELD"] = "django.db.models.BigAutoField"


def _auth_defaults(s: dict[str, Any]) -> None:
    # DRF's own defaults: session and basic authentication, anyone allowed, AnonymousUser.
    rest = dict(s["REST_FRAMEWORK"])
    for key in ("DEFAULT_AUTHENTICATION_CLASSES", "DEFAULT_PERMISSION_CLASSES"):
        rest.pop(key)
    rest.pop("UNAUTHENTICATED_USER")
    s["REST_FRAMEWORK"] = rest


def _cors(s: dict[str, Any]) -> None:
    s["INSTALLED_APPS"] = [*s["INSTALLED_APPS"], "corsheaders"]
    # As high as possible, before CommonMiddleware (django-cors-headers' setup guide).
    # (After the contract's own, which generate no answer: a preflight gets its headers too.)
    own = len(_own(s["MIDDLEWARE"]))
    s["MIDDLEWARE"] = [
        *s["MIDDLEWARE"][:own],
        "corsheaders.middleware.CorsMiddleware",
        *s["MIDDLEWARE"][own:],
    ]
    s["CORS_ALLOW_ALL_ORIGINS"] = True
    s["CORS_URLS_REGEX"] = r"^/v1/.*$"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """Answer as the reference app does, with the headers DRF's own handler adds to its body:
    a 401's challenge (``WWW-Authenticate``) and a 429's ``Retry-After``."""
    from django_app.exceptions import exception_handler as reference

    response = reference(exc, context)
    if response is not None:
        # As rest_framework.views.exception_handler sets them; the reference app never answers
        # 401 or 429, so its handler writes neither.
        if challenge := getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = challenge
        if wait := getattr(exc, "wait", None):
            response["Retry-After"] = str(int(wait))
    return response


HANDLER = {"EXCEPTION_HANDLER": f"{__name__}.exception_handler"}


def _limits(s: dict[str, Any]) -> None:
    s["CACHES"] = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    s["REST_FRAMEWORK"] = (
        s["REST_FRAMEWORK"]
        | HANDLER
        | {
            "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
            "DEFAULT_THROTTLE_RATES": {"anon": f"{ladder_rate()}/min"},
        }
    )


def _metrics(s: dict[str, Any]) -> None:
    # prometheus_client reads PROMETHEUS_MULTIPROC_DIR when imported: set it first, so the
    # workers of one server share their counts (gunicorn's multiprocess mode).
    # (gunicorn.conf.py names one per server, but creates it only after a preloaded app.)
    directory = os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ladder-metrics-")
    )
    os.makedirs(directory, exist_ok=True)
    s["INSTALLED_APPS"] = [*s["INSTALLED_APPS"], "django_prometheus"]
    s["MIDDLEWARE"] = [
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *s["MIDDLEWARE"],
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ]
    s["ROOT_URLCONF"] = "benchmarks.targets.ladder_django_urls"


def _token(s: dict[str, Any]) -> None:
    s["INSTALLED_APPS"] = [*s["INSTALLED_APPS"], "rest_framework.authtoken"]
    s["REST_FRAMEWORK"] = (
        s["REST_FRAMEWORK"]
        | HANDLER
        | {
            # First, so a request without credentials gets 401 and its WWW-Authenticate header.
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework.authentication.TokenAuthentication",
                "rest_framework.authentication.SessionAuthentication",
                "rest_framework.authentication.BasicAuthentication",
            ],
        }
    )


FEATURES = {
    "defaults": _defaults,
    "auth_defaults": _auth_defaults,
    "cors": _cors,
    "limits": _limits,
    "metrics": _metrics,
    "token": _token,
}


def settings_of(rung: str) -> dict[str, Any]:
    """Return the settings of a rung: the reference app's, with every feature up to ``rung``."""
    found = _reference()
    for feature in RUNGS[: RUNGS.index(rung) + 1]:
        FEATURES[feature](found)
    return found


def _database(rung: str) -> Path:
    """Return the rung's migrated SQLite file, made once per rung and reused by later starts.

    A project migrates once, before it serves; so does this: the first start of a rung
    migrates a fresh file (and, on the token rung, creates one user and its token) and moves
    it into place, and every later start, and its workers, open it as it is.
    """
    from django.conf import settings

    apps = hashlib.sha256(" ".join(settings.INSTALLED_APPS).encode()).hexdigest()[:12]
    found = (
        Path(tempfile.gettempdir()) / f"ladder-django-{rung}-{django.__version__}-{apps}.sqlite3"
    )
    if not found.exists():
        fresh = Path(tempfile.mkdtemp(prefix="ladder-django-")) / "db.sqlite3"
        settings.DATABASES["default"]["NAME"] = fresh
        _migrate(rung)
        connections.close_all()
        os.replace(fresh, found)
        fresh.parent.rmdir()
    return found


def _migrate(rung: str) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if RUNGS.index(rung) >= RUNGS.index("token"):
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        user = get_user_model().objects.create_user("ladder")
        Token.objects.create(user=user, key=os.environ.get("LADDER_TOKEN", LADDER_TOKEN))


def prepare(rung: str) -> None:
    """Configure Django for ``rung`` and make its database, as a deployment migrates before it
    serves (the benchmark runs it uncounted, in a process of its own)."""
    from django.conf import settings

    settings.configure(**settings_of(rung))
    django.setup()
    _database(rung)


def build(rung: str) -> Any:
    """Configure Django for ``rung`` and return its WSGI application."""
    from django.conf import settings

    settings.configure(**settings_of(rung))
    django.setup()
    settings.DATABASES["default"]["NAME"] = _database(rung)
    connections.close_all()
    if RUNGS.index(rung) >= RUNGS.index("token"):
        # The prediction needs the token; the probes stay open, as on the Flask rung.
        from rest_framework.permissions import IsAuthenticated

        from django_app.views import PredictView

        PredictView.permission_classes = [IsAuthenticated]
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def __getattr__(name: str) -> Any:
    """Build the rung a server imports (``benchmarks.targets.ladder_django:cors``)."""
    if name not in FEATURES:
        raise AttributeError(name)
    application = build(name)
    globals()[name] = application
    return application
