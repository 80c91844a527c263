"""Every error the Flask app answers, mapped once to the contract's error body.

A request to /v2 gets the Open Inference Protocol's error form instead (``contract.error_answer``
decides by the path, for both apps).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed

from contract import allow, code_for_status, error_answer
from contract.v2 import UnknownModel
from model import InvalidInput
from model.batching import RETRY_AFTER_S, Overloaded

ErrorResponse = tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]


class MalformedJSON(BadRequest):
    """The request body is not valid JSON."""


def handle_http_error(exc: HTTPException) -> ErrorResponse:
    """Answer an HTTP error (routing, body limit, media type, an unhandled exception's 500)."""
    code = "malformed_json" if isinstance(exc, MalformedJSON) else code_for_status(exc.code or 500)
    body, status = error_answer(request.path, code)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        return body, status, {"Allow": allow(exc.valid_methods)}
    return body, status


def handle_invalid_input(exc: InvalidInput) -> ErrorResponse:
    """Answer a request whose body does not fit the model."""
    return error_answer(request.path, "validation_error", exc.details)


def handle_unknown_model(exc: UnknownModel) -> ErrorResponse:
    """Answer a /v2 request for a model or version not served here."""
    return error_answer(request.path, "not_found", message=str(exc))


def handle_overloaded(exc: Overloaded) -> ErrorResponse:
    """Answer a prediction the batcher has no room for (or refuses while shutting down)."""
    body, status = error_answer(request.path, "overloaded")
    return body, status, {"Retry-After": str(RETRY_AFTER_S)}


def register_error_handlers(app: Flask) -> None:
    """Register the handlers; Flask logs an unhandled exception before the 500 handler runs."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InvalidInput, handle_invalid_input)
    app.register_error_handler(UnknownModel, handle_unknown_model)
    app.register_error_handler(Overloaded, handle_overloaded)
