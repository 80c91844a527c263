"""The app's own middleware: metrics of every request, and the contract's headers that Django's
own middleware does not set."""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from contract import REQUEST_ID_HEADER, request_id


class MetricsMiddleware:
    """Record every request into ``contract.metrics``; unused when METRICS_ENABLED is off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.METRICS_ENABLED:
            raise MiddlewareNotUsed()
        self.get_response = get_response
        # Looked up once, not per request (1,500 instructions); its ``metrics`` is read per
        # request, where the views read it.
        self.config = apps.get_app_config("api")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer the request; count it by route, method and status, with its duration."""
        metrics = self.config.metrics
        started = metrics.request_started()
        response = self.get_response(request)
        match = request.resolver_match
        # Django's routes have no leading slash; the contract's paths (and Flask's rules) do.
        route = f"/{match.route}" if match is not None else None
        metrics.request_finished(started, route, request.method, response.status_code)
        return response


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
