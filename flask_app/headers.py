"""Headers the contract puts on every response of the Flask app."""

from __future__ import annotations

from flask import Flask, Response, request

from contract import REQUEST_ID_HEADER, RESPONSE_HEADERS, request_id


def add_contract_headers(response: Response) -> Response:
    """Add the protective headers and the request ID to a response."""
    response.headers.update(RESPONSE_HEADERS)
    response.headers[REQUEST_ID_HEADER] = request_id(request.headers.get(REQUEST_ID_HEADER))
    return response


def register_headers(app: Flask) -> None:
    """Run ``add_contract_headers`` after every request, error answers included."""
    app.after_request(add_contract_headers)
