"""Flask's extension ladder: the reference app, then one production feature per rung.

Each rung is the rung before it plus one feature, added the way Flask's community adds it: an
extension initialised on the app, or its decorator applied to the prediction view. Rungs are
built on demand (``ladder_flask:cors`` builds that rung alone), so a server or a counted
interpreter pays for its own rung only. The rungs answer the same one-row prediction with the
same body as the reference app; only the token rung needs a request header
(``Authorization: Token ...``, ``targets.LADDER_TOKEN``).

The settings a test needs to see a feature act come from the environment: ``LADDER_RATE`` (rate
limit per client and minute, default high enough that a benchmark never meets it) and
``LADDER_TOKEN`` (the one accepted token).
"""

from __future__ import annotations

import functools
import hmac
import os
import tempfile
from collections.abc import Callable
from typing import Any, NoReturn

from flask import Flask, abort

from benchmarks.targets import LADDER_TOKEN, LADDERS, ladder_rate
from flask_app import create_app

RUNGS = tuple(rung.feature for rung in LADDERS["flask"][2:])  # past the floor and the app


def _cors(app: Flask) -> None:
    from flask_cors import CORS

    # A browser front end on another origin may call the API; the preflight is answered.
    CORS(app, resources={r"/v1/*": {"origins": "*"}})


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
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    Limiter(
        get_remote_address,
        app=app,
        default_limits=[f"{ladder_rate()} per minute"],
        storage_uri="memory://",
    )


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


def _token(app: Flask) -> None:
    from flask_httpauth import HTTPTokenAuth

    auth = HTTPTokenAuth(scheme="Token")
    expected = os.environ.get("LADDER_TOKEN", LADDER_TOKEN)

    @auth.verify_token
    def verify(token: str) -> bool:
        return hmac.compare_digest(token, expected)

    @auth.error_handler
    def refuse(status: int) -> None:
        # Into the app's one error mapping (flask_app/errors.py), in the contract's format.
        abort(status)

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


def __getattr__(name: str) -> Flask:
    """Build the rung a server imports (``benchmarks.targets.ladder_flask:cors``)."""
    if name not in FEATURES:
        raise AttributeError(name)
    app = build(name)
    globals()[name] = app
    return app
