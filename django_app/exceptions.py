"""Every error the Django app answers, mapped once to the contract's error body.

DRF calls ``exception_handler`` for exceptions raised in API views (the ``EXCEPTION_HANDLER``
setting); Django calls the ``handler400/404/500`` views of ``urls.py`` for everything else
(an unknown path, a disallowed Host, an unhandled exception). A request to /v2 gets the Open
Inference Protocol's error form instead (``contract.error_answer`` decides by the path, for both
apps).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

import contract
from contract.v2 import UnknownModel
from model import InvalidInput
from model.batching import RETRY_AFTER_S, Overloaded


class NotReady(APIException):
    """No model is loaded."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def _validation_details(detail: Any) -> list[tuple[list[str], str]]:
    """Flatten a serializer's errors into (location, message) pairs."""
    return [
        ([] if field == api_settings.NON_FIELD_ERRORS_KEY else [field], str(message))
        for field, messages in detail.items()
        for message in messages
    ]


def _error_code(exc: Exception) -> tuple[str, list]:
    if isinstance(exc, InvalidInput):
        return "validation_error", exc.details
    if isinstance(exc, UnknownModel):
        return "not_found", []
    if isinstance(exc, Overloaded):
        return "overloaded", []
    if isinstance(exc, ValidationError):
        return "validation_error", _validation_details(exc.detail)
    if isinstance(exc, ParseError):
        return "malformed_json", []
    if isinstance(exc, Http404):
        return "not_found", []
    if isinstance(exc, RequestDataTooBig):
        return "payload_too_large", []
    # exception_handler lets nothing else through: the rest are DRF's, which carry their status.
    assert isinstance(exc, APIException)
    return contract.code_for_status(exc.status_code), []


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer an exception raised in a view; None lets Django log it and answer 500."""
    if not isinstance(
        exc, InvalidInput | UnknownModel | Overloaded | APIException | Http404 | RequestDataTooBig
    ):
        return None
    code, details = _error_code(exc)
    message = str(exc) if isinstance(exc, UnknownModel) else None
    body, status = contract.error_answer(context["request"].path, code, details, message)
    headers = None
    if code == "method_not_allowed":
        headers = {"Allow": contract.allow(context["view"].allowed_methods)}
    elif code == "overloaded":
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    return Response(body, status=status, headers=headers)


def _plain_error(request: HttpRequest, code: str) -> HttpResponse:
    body, status = contract.error_answer(request.path, code)
    response = HttpResponse(
        contract.dumps(body) + "\n", status=status, content_type="application/json"
    )
    # CommonMiddleware sets it on most answers, but not on one refused in its own
    # process_request (a disallowed Host).
    response["Content-Length"] = str(len(response.content))
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer a request Django refused before routing it (for example a disallowed Host)."""
    return _plain_error(request, "bad_request")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer a path no view serves."""
    return _plain_error(request, "not_found")


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an unhandled exception, which Django has already logged."""
    return _plain_error(request, "internal_error")
