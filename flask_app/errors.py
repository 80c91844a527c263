"""Every error the Flask app answers, mapped once to the contract's error body."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed

from contract import allow, code_for_status, error_body, status_of
from model import InvalidInput

ErrorResponse = tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]


class MalformedJSON(BadRequest):
    """The request body is not valid JSON."""


def handle_http_error(exc: HTTPException) -> ErrorResponse:
    """Answer an HTTP error (routing, body limit, media type, an unhandled exception's 500)."""
    code = "malformed_json" if isinstance(exc, MalformedJSON) else code_for_status(exc.code or 500)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        return error_body(code), status_of(code), {"Allow": allow(exc.valid_methods)}
    return error_body(code), status_of(code)


def handle_invalid_input(exc: InvalidInput) -> ErrorResponse:
    """Answer a request whose body does not fit the model."""
    return error_body("validation_error", exc.details), status_of("validation_error")


def register_error_handlers(app: Flask) -> None:
    """Register the handlers; Flask logs an unhandled exception before the 500 handler runs."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InvalidInput, handle_invalid_input)
