"""Flask's extension ladder: the reference app, then one production feature per rung.

Each rung is the rung before it plus one feature, added the way Flask's community adds it: an
extension initialised on the app, or its decorator applied to the prediction view. Rungs are
built on demand (``ladder_flask:cors`` builds that rung alone), so a server or a counted
interpreter pays for its own rung only. The rungs answer the same one-row prediction with the
same body as the reference app; only the token rung needs a request header
(``Authorization: Token ...``, ``targets.LADDER_TOKEN``).

The rungs both ladders have (``analysis.ladders.SHARED_RUNGS``: CORS, rate limits, metrics,
token authentication) answer the same requests as Django's with the same status, body and
headers that matter (tests/benchmarks/test_ladder_parity.py); where the extension's defaults
differ from Django's, the rung sets the options that make them agree:

- CORS: django-cors-headers' default policy ("*", its methods, headers and max-age; no CORS
  header on a request without an Origin);
- rate limits: one budget per client across the API (``application_limits``, as DRF's
  ``AnonRateThrottle``) and a 429 with ``Retry-After``;
- token authentication: Flask-HTTPAuth's ``HTTPTokenAuth``, whose ``verify_token`` looks the
  presented key up in a table of tokens in SQLite (the standard library's ``sqlite3``, a
  connection per request as in the Flask tutorial's ``get_db``), because DRF's
  ``TokenAuthentication`` looks it up in Django's SQLite database: the same store and the same
  work per request, one indexed lookup of the key joined to its user, not a comparison with one
  secret in memory. The file is made once, before the rung is counted (``prepare``), as the
  Django rung's is migrated. A refusal is 401 with ``WWW-Authenticate: Token``, as DRF's.

The settings a test needs to see a feature act come from the environment: ``LADDER_RATE`` (rate
limit per client and minute, default high enough that a benchmark never meets it) and
``LADDER_TOKEN`` (the one accepted token, stored in the token rung's table).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from flask import Flask, g

from benchmarks.targets import LADDER_TOKEN, LADDERS, ladder_rate
from flask_app import create_app

RUNGS = tuple(rung.feature for rung in LADDERS["flask"][2:])  # past the floor and the app


# django-cors-headers' defaults (corsheaders.defaults), which the Django rung keeps: the CORS
# policy both rungs answer with, so a browser is allowed the same requests by either.
CORS_METHODS = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]
CORS_HEADERS = ["accept", "authorization", "content-type", "user-agent", "x-csrftoken"]
CORS_HEADERS += ["x-requested-with"]
CORS_MAX_AGE = 86400


def _cors(app: Flask) -> None:
    from flask_cors import CORS

    # A browser front end on another origin may call the API; the preflight is answered. Any
    # origin is answered "*", and a request without an Origin gets no CORS header.
    CORS(
        app,
        resources={r"/v1/*": {"origins": "*"}},
        send_wildcard=True,
        always_send=False,
        methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        max_age=CORS_MAX_AGE,
    )


def _headers(app: Flask) -> None:
    from flask_talisman import Talisman

    # TLS ends at nginx (deploy/nginx.conf), which redirects plain HTTP; Talisman's redirect
    # would answer the proxy's own plain-HTTP hop. Its headers and HSTS policy stay on.
    Talisman(
        app,
        force_https=False,
        strict_transport_security=True,
        content_security_policy={"default-src": "'none'"},
        frame_options="DENY",
        referrer_policy="no-referrer",
    )


def _messages(messages: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Flatten marshmallow's nested messages into the contract's (location, message) pairs."""
    if isinstance(messages, dict):
        return [pair for key, value in messages.items() for pair in _messages(value, (*loc, key))]
    return [(loc, message) for message in messages]


def _validation(app: Flask) -> None:
    from marshmallow import Schema, fields, validate
    from webargs.flaskparser import FlaskParser

    from model import InvalidInput

    class PredictRequest(Schema):
        """The request envelope: a non-empty list of instances."""

        instances = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1))

    parser = FlaskParser()

    @parser.error_handler
    def refuse(error: Any, req: Any, schema: Any, **kwargs: Any) -> NoReturn:
        # Into the app's one error mapping (flask_app/errors.py), in the contract's format.
        raise InvalidInput(_messages(error.messages.get("json", error.messages)))

    view = app.view_functions["api.predict"]

    @functools.wraps(view)
    @parser.use_args(PredictRequest(), location="json")
    def predict(args: dict[str, Any]) -> Any:
        return view()

    app.view_functions["api.predict"] = predict


def _limits(app: Flask) -> None:
    from flask_limiter import Limiter, RateLimitExceeded
    from flask_limiter.util import get_remote_address

    from flask_app.errors import handle_http_error

    # One budget per client across the API (application_limits), as DRF's AnonRateThrottle
    # counts every API view of a client together; default_limits would give each route its own.
    limiter = Limiter(
        get_remote_address,
        app=app,
        application_limits=[f"{ladder_rate()} per minute"],
        storage_uri="memory://",
    )

    def refuse(exc: RateLimitExceeded) -> Any:
        # The body from the app's one error mapping (flask_app/errors.py), and Retry-After as
        # DRF's throttle sends it: the whole seconds until the window lets the client in again,
        # computed as Flask-Limiter computes its own (which comes only with its X-RateLimit-*
        # headers on every answer, which DRF does not send).
        body, code = handle_http_error(exc)[:2]
        breached = limiter.current_limit
        wait = int(breached.reset_at - time.time()) if breached else 0
        return body, code, {"Retry-After": str(wait)} if wait > 0 else {}

    app.register_error_handler(RateLimitExceeded, refuse)


def _metrics(app: Flask) -> None:
    # prometheus_client reads PROMETHEUS_MULTIPROC_DIR when imported: set it first, so the
    # workers of one server share their counts (gunicorn's multiprocess mode).
    # (gunicorn.conf.py names one per server, but creates it only after a preloaded app.)
    directory = os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ladder-metrics-")
    )
    os.makedirs(directory, exist_ok=True)
    from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

    GunicornInternalPrometheusMetrics(app)


# The token store, as a Flask app keeps API tokens without an ORM: a table of tokens, each
# naming its user, in SQLite through the standard library (flaskr's pattern). Its shape is DRF's
# ``authtoken_token`` beside ``auth_user``: the key is the primary key, the user must be active.
SCHEMA = """
CREATE TABLE user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    is_active INTEGER NOT NULL
);
CREATE TABLE token (
    key TEXT PRIMARY KEY,
    user_id INTEGER UNIQUE NOT NULL REFERENCES user (id),
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""
# One indexed lookup of the presented key, joined to its user, as DRF's
# ``Token.objects.select_related("user").get(key=key)`` then its ``is_active`` check.
LOOKUP = (
    "SELECT user.username FROM token JOIN user ON user.id = token.user_id"
    " WHERE token.key = ? AND user.is_active"
)


def _store() -> Path:
    """Return the token rung's SQLite file, made once and reused by every later start.

    As ``ladder_django`` migrates its file once: the first start (or ``prepare``) creates the
    tables in a fresh file, adds one user and its token, and moves it into place.
    """
    token = os.environ.get("LADDER_TOKEN", LADDER_TOKEN)
    digest = hashlib.sha256(f"{SCHEMA}{token}".encode()).hexdigest()[:12]
    found = Path(tempfile.gettempdir()) / f"ladder-flask-token-{digest}.sqlite3"
    if not found.exists():
        fresh = Path(tempfile.mkdtemp(prefix="ladder-flask-")) / "tokens.sqlite3"
        with contextlib.closing(sqlite3.connect(fresh)) as db, db:
            db.executescript(SCHEMA)
            user = db.execute("INSERT INTO user (username, is_active) VALUES ('ladder', 1)")
            db.execute("INSERT INTO token (key, user_id) VALUES (?, ?)", (token, user.lastrowid))
        os.replace(fresh, found)
        fresh.parent.rmdir()
    return found


def _token(app: Flask) -> None:
    from flask_httpauth import HTTPTokenAuth
    from werkzeug.exceptions import Unauthorized

    from flask_app.errors import handle_http_error

    app.config["DATABASE"] = str(_store())
    auth = HTTPTokenAuth(scheme="Token")

    def get_db() -> sqlite3.Connection:
        # flaskr's get_db: a connection per request, closed when it ends, as Django opens and
        # closes its own per request (CONN_MAX_AGE = 0, its default).
        if "db" not in g:
            g.db = sqlite3.connect(app.config["DATABASE"])
        return g.db

    @app.teardown_appcontext
    def close_db(exception: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @auth.verify_token
    def verify(token: str) -> str | None:
        row = get_db().execute(LOOKUP, (token,)).fetchone()
        return row[0] if row else None

    @auth.error_handler
    def refuse(status: int) -> Any:
        # The body from the app's one error mapping (flask_app/errors.py); the challenge names
        # the scheme alone, as DRF's TokenAuthentication does (a realm is optional, RFC 7235).
        body, code = handle_http_error(Unauthorized())[:2]
        return body, code, {"WWW-Authenticate": auth.scheme}

    app.view_functions["api.predict"] = auth.login_required(app.view_functions["api.predict"])


FEATURES: dict[str, Callable[[Flask], None]] = {
    "cors": _cors,
    "headers": _headers,
    "validation": _validation,
    "limits": _limits,
    "metrics": _metrics,
    "token": _token,
}


def build(rung: str) -> Flask:
    """Return the reference app with every feature up to and including ``rung``."""
    # flask-cors answers a preflight through Flask's automatic OPTIONS answer, which the
    # reference app switches off (the contract refuses OPTIONS); a CORS API needs it back.
    app = create_app({"PROVIDE_AUTOMATIC_OPTIONS": True})
    for feature in RUNGS[: RUNGS.index(rung) + 1]:
        FEATURES[feature](app)
    return app


def prepare(rung: str) -> None:
    """Make the rung's token store, as a deployment creates its tables before it serves (the
    benchmark runs it uncounted, in a process of its own)."""
    if RUNGS.index(rung) >= RUNGS.index("token"):
        _store()


def __getattr__(name: str) -> Flask:
    """Build the rung a server imports (``benchmarks.targets.ladder_flask:cors``)."""
    if name not in FEATURES:
        raise AttributeError(name)
    app = build(name)
    globals()[name] = app
    return app
