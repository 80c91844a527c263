"""Headers the contract puts on every response of the Flask app."""

from __future__ import annotations

from flask import Flask, Response, request

from contract import REQUEST_ID_HEADER, RESPONSE_HEADERS, request_id


def add_contract_headers(response: Response) -> Response:
    """Add the protective headers and the request ID to a response."""
    # extend() appends without searching for existing values, which update() does per header.
    response.headers.extend(RESPONSE_HEADERS)
    response.headers[REQUEST_ID_HEADER] = request_id(request.environ.get("HTTP_X_REQUEST_ID"))
    return response


def register_headers(app: Flask) -> None:
    """Run ``add_contract_headers`` after every request, error answers included."""
    app.after_request(add_contract_headers)
