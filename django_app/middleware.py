"""Headers the contract puts on every response that Django's own middleware does not set."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from contract import REQUEST_ID_HEADER, request_id


class ContractHeadersMiddleware:
    """Add ``Cache-Control: no-store`` and the request ID (SecurityMiddleware and
    XFrameOptionsMiddleware set the other protective headers from settings)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer the request, then add the headers."""
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        # META, not request.headers: the latter builds a dict of every header per request.
        response[REQUEST_ID_HEADER] = request_id(request.META.get("HTTP_X_REQUEST_ID"))
        return response
