"""Prometheus metrics of the Flask app: a WSGI middleware that records into ``contract.metrics``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from contract import flag
from contract.metrics import Metrics


def route(app: Flask, request: Request) -> str | None:
    """Return the route template the request matched, or None."""
    if request.url_rule is not None:
        return request.url_rule.rule
    error = request.routing_exception
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # The path matched, the method did not, and Werkzeug keeps no rule for that; Django's
        # resolver does. Match the path again with a method it allows to find its template.
        adapter = app.create_url_adapter(request)
        assert adapter is not None  # None only without a request
        try:
            rule, _ = adapter.match(method=next(iter(error.valid_methods)), return_rule=True)
        except HTTPException:  # a redirect: no template either
            return None
        return rule.rule
    return None


class MetricsMiddleware:
    """Record every request the app answers, error answers included, around ``app.wsgi_app``.

    Not Flask's ``before_request`` and ``after_request``: those cost twice the instructions (Flask
    checks each hook for a coroutine on every request, and each attribute read through
    ``request``, ``g`` or ``current_app`` costs some 8,000). Wrapped around ``wsgi_app``, Flask's
    documented place for a WSGI middleware, it counts the request when Flask starts the response:
    Flask is still in the request's context then, and the request it made is in the environ
    (``werkzeug.request``; Flask clears it when it leaves the context).
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer the request; count it by route, method and status, with its duration."""
        recorder = self.app.extensions["metrics"]
        started = recorder.request_started()

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            request = environ["werkzeug.request"]
            recorder.request_finished(
                started, route(self.app, request), request.method, int(status[:3])
            )
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, respond)


def register_metrics(app: Flask) -> None:
    """Record every request, error answers included, unless METRICS_ENABLED is off."""
    app.config["METRICS_ENABLED"] = flag(app.config["METRICS_ENABLED"])
    if not app.config["METRICS_ENABLED"]:
        app.extensions["metrics"] = None
        return
    app.extensions["metrics"] = Metrics(app.extensions["model"])
    app.wsgi_app = MetricsMiddleware(app)  # type: ignore[method-assign]
