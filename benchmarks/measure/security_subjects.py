"""The four apps the security probe asks (``measure/security.py``): each framework's default
minimal app and this project's two apps, built the same way, each with what only its framework's
objects can tell (whether it debugs, how it signs, its upload limit, its CSRF setting)."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.urls import path
from werkzeug.datastructures import Headers
from werkzeug.test import Client

from benchmarks.targets import startproject

# What a raised exception carries: an error page must show neither it nor a traceback.
INTERNAL_DETAIL = "probe-internal-detail"
# Policies that send no more than the origin to another site.
STRICT_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}

# What was seen, and whether that is the safe outcome; None where the check does not apply.
Observation = tuple[str, bool | None]
Signing = tuple[str, bool]  # what happened, and whether a signature was made
Answer = tuple[int, Headers, bytes]


@dataclass(frozen=True)
class Subject:
    """One app to probe: its WSGI callable and what only its framework's objects can tell."""

    wsgi: Any
    page: str  # answers GET with 200
    debug: bool
    fail: Callable[[Client], Answer]  # make the app meet an unhandled exception
    # A JSON endpoint to send a large body to; without one, the configured limit is reported.
    upload_path: str | None = None
    upload_limit: tuple[str, int | None] | None = None  # setting, value (None: no limit)
    # Whether the framework's CSRF protection is on, read from its configuration; it counts only
    # for an app that sets a cookie. None: nothing protects the app.
    csrf: Observation | None = None
    # Sign as the framework signs, with whatever key the app has; say what happened.
    sign: Callable[[], Signing] | None = None


def _send(client: Client, method: str, url: str, **options: Any) -> Answer:
    """Send one request and return the status, headers and body of the answer."""
    # Error logs go to wsgi.errors, which would otherwise be this process's stderr: the probe
    # reads answers, not logs.
    with client.open(url, method=method, errors_stream=io.StringIO(), **options) as response:
        return response.status_code, response.headers, response.get_data()


# -- the default Flask app -------------------------------------------------------------------


def _flask_session_write(app: Any) -> Signing:
    # Without a key, the session Flask opens is a NullSession that refuses the write; with one,
    # the cookie is signed when the response is saved, as after any view.
    with app.test_request_context() as context:
        session = context.session  # the session object itself, not the request's proxy to it
        try:
            session["probe"] = True
        except RuntimeError as error:
            return f"a session write raises {type(error).__name__}", False
        response = app.response_class()
        app.session_interface.save_session(app, session, response)
    if "Set-Cookie" not in response.headers:
        raise RuntimeError("a session write with a key set no signed cookie")
    return "a session cookie is signed", True


def _flask_csrf(app: Any) -> Observation:
    # Flask-WTF's CSRFProtect, the usual way to add it, registers itself under this name.
    if "csrf" in app.extensions:
        return "on (CSRFProtect)", True
    return "off (none built in)", False


def flask_default(with_secret_key: bool = True) -> Subject:
    """Build the smallest Flask app; it reads no key from anywhere, so the flag is moot."""
    from flask import Flask

    app = Flask(__name__)

    @app.route("/")
    def index() -> dict[str, bool]:
        """Answer a JSON object."""
        return {"ok": True}

    @app.route("/boom")
    def boom() -> NoReturn:
        """Fail as a bug would."""
        raise RuntimeError(INTERNAL_DETAIL)

    return Subject(
        wsgi=app,
        page="/",
        debug=app.debug,
        fail=lambda client: _send(client, "GET", "/boom"),
        upload_limit=("MAX_CONTENT_LENGTH", app.config["MAX_CONTENT_LENGTH"]),
        csrf=_flask_csrf(app),
        sign=lambda: _flask_session_write(app),
    )


# -- the default Django app (ROOT_URLCONF names this module) ---------------------------------


def django_index(request: HttpRequest) -> JsonResponse:
    """Answer a JSON object."""
    return JsonResponse({"ok": True})


def django_boom(request: HttpRequest) -> NoReturn:
    """Fail as a bug would."""
    raise RuntimeError(INTERNAL_DETAIL)


urlpatterns = [path("", django_index), path("boom", django_boom)]


def _django_signing() -> Signing:
    from django.core import signing

    try:
        signing.dumps("probe")
    except ImproperlyConfigured as error:
        return f"signing raises {type(error).__name__}", False
    return "signing succeeds", True


def _django_csrf() -> Observation:
    from django.conf import settings

    if "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE:
        return "on (CsrfViewMiddleware)", True
    return "off (no CsrfViewMiddleware)", False


def django_default(with_secret_key: bool = True) -> Subject:
    """Configure Django as startproject writes it; once per process.

    startproject writes its key into the settings and reads nothing from the environment, so
    the flag is moot: without a key in its environment, the app still has the template's.
    """
    from django.conf import settings
    from django.core.checks.security.base import SECRET_KEY_INSECURE_PREFIX
    from django.core.management.utils import get_random_secret_key
    from django.core.wsgi import get_wsgi_application

    base_dir = Path(tempfile.gettempdir()) / "django-default-probe-never-created"
    settings.configure(
        SECRET_KEY=SECRET_KEY_INSECURE_PREFIX + get_random_secret_key(),
        DEBUG=True,
        ALLOWED_HOSTS=[],
        INSTALLED_APPS=startproject.INSTALLED_APPS,
        MIDDLEWARE=startproject.MIDDLEWARE,
        ROOT_URLCONF=__name__,
        TEMPLATES=startproject.TEMPLATES,
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": base_dir / "db.sqlite3"}
        },
        AUTH_PASSWORD_VALIDATORS=[
            {"NAME": f"django.contrib.auth.password_validation.{name}"}
            for name in (
                "UserAttributeSimilarityValidator",
                "MinimumLengthValidator",
                "CommonPasswordValidator",
                "NumericPasswordValidator",
            )
        ],
        LANGUAGE_CODE="en-us",
        TIME_ZONE="UTC",
        USE_I18N=True,
        USE_TZ=True,
        STATIC_URL="static/",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    application = get_wsgi_application()
    return Subject(
        wsgi=application,
        page="/",
        debug=settings.DEBUG,
        fail=lambda client: _send(client, "GET", "/boom"),
        upload_limit=("DATA_UPLOAD_MAX_MEMORY_SIZE", settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
        csrf=_django_csrf(),
        sign=_django_signing,
    )


# -- this project's apps ---------------------------------------------------------------------


class ExplodingModel:
    """Stand in for the model and fail on prediction, as a bug would."""

    name, version = "exploding", "0" * 12

    def predict(self, instances: object) -> NoReturn:
        """Raise an exception no handler expects."""
        raise RuntimeError(INTERNAL_DETAIL)


def _predict_with(client: Client, install: Callable[[], None]) -> Answer:
    """Swap in the exploding model, then ask for a prediction."""
    install()
    body = json.dumps({"instances": [{"mean_radius": 1.0}]})
    return _send(client, "POST", "/v1/predict", data=body, content_type="application/json")


def flask_app(with_secret_key: bool = True) -> Subject:
    """Create this project's Flask app as gunicorn does; changes this process's environment."""
    if not with_secret_key:
        os.environ.pop("FLASK_SECRET_KEY", None)
    from flask_app import create_app

    app = create_app()
    return Subject(
        wsgi=app,
        page="/health/live",
        debug=app.debug,
        fail=lambda client: _predict_with(
            client, lambda: app.extensions.__setitem__("model", ExplodingModel())
        ),
        upload_path="/v1/predict",
        csrf=_flask_csrf(app),
        sign=lambda: _flask_session_write(app),
    )


def django_app(with_secret_key: bool = True) -> Subject:
    """Set up this project's Django app as gunicorn does; changes this process's environment."""
    # The test environment brings a development key; production brings none unless one is set.
    os.environ["DJANGO_ENV"] = "test" if with_secret_key else "production"
    if not with_secret_key:
        os.environ.pop("DJANGO_SECRET_KEY", None)
    from django.apps import apps
    from django.conf import settings

    from django_app.wsgi import application

    config = apps.get_app_config("api")
    return Subject(
        wsgi=application,
        page="/health/live",
        debug=settings.DEBUG,
        fail=lambda client: _predict_with(
            client, lambda: setattr(config, "model", ExplodingModel())
        ),
        upload_path="/v1/predict",
        csrf=_django_csrf(),
        sign=_django_signing,
    )


BUILDERS: dict[str, Callable[[bool], Subject]] = {
    "flask-default": flask_default,
    "django-default": django_default,
    "flask-app": flask_app,
    "django-app": django_app,
}


# -- the probe -------------------------------------------------------------------------------
