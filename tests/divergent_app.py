"""A target that breaks the contract on purpose: the parity gate must stop a run over it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_app import create_app

_app = create_app()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Serve the Flask app, except a liveness answer with one extra key."""
    if environ.get("PATH_INFO") == "/health/live":
        body = b'{"status":"ok","build":"dirty"}\n'
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]
    return _app(environ, start_response)
