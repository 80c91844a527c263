"""Prometheus metrics of the Flask app: request hooks that record into ``contract.metrics``."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from contract import flag
from contract.metrics import Metrics


def route() -> str | None:
    """Return the route template the request matched, or None."""
    if request.url_rule is not None:
        return request.url_rule.rule
    error = request.routing_exception
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # The path matched, the method did not, and Werkzeug keeps no rule for that; Django's
        # resolver does. Match the path again with a method it allows to find its template.
        adapter = current_app.create_url_adapter(request)
        assert adapter is not None  # None only outside a request
        try:
            rule, _ = adapter.match(method=next(iter(error.valid_methods)), return_rule=True)
        except HTTPException:  # a redirect: no template either
            return None
        return rule.rule
    return None


def start_timer() -> None:
    """Count the request as in progress and note when it started."""
    g.metrics_started = current_app.extensions["metrics"].request_started()


def record_request(response: Response) -> Response:
    """Count the answered request by route, method and status, with its duration."""
    current_app.extensions["metrics"].request_finished(
        g.pop("metrics_started"), route(), request.method, response.status_code
    )
    return response


def register_metrics(app: Flask) -> None:
    """Record every request, error answers included, unless METRICS_ENABLED is off."""
    app.config["METRICS_ENABLED"] = flag(app.config["METRICS_ENABLED"])
    if not app.config["METRICS_ENABLED"]:
        app.extensions["metrics"] = None
        return
    app.extensions["metrics"] = Metrics(app.extensions["model"])
    app.before_request(start_timer)
    app.after_request(record_request)
