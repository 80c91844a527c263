"""How the Django app reads and writes JSON: exactly as the contract (and the Flask app) does."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

import contract


class ContractJSONParser(JSONParser):
    """Parse strict JSON: no NaN or Infinity, UTF-8 only, bounded nesting.

    The body limit is Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which ``request.body`` enforces
    from Content-Length before a byte is read; ``exceptions.py`` answers it with 413.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Return the parsed body."""
        try:
            return contract.loads(stream.read())
        except ValueError as exc:
            raise ParseError() from exc


class ContractJSONRenderer(JSONRenderer):
    """Encode compactly, in insertion order, ending with a newline (as Flask does)."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        """Return the response body."""
        if data is None:
            return b""
        return (contract.dumps(data) + "\n").encode("ascii")


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Answer JSON whatever the Accept header says: the contract has one media type."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """Pick the first renderer."""
        return renderers[0], renderers[0].media_type


class UntypedIsJSONNegotiation(JSONOnlyNegotiation):
    """Also read a body that has no Content-Type as JSON: the Open Inference Protocol's clients
    may send none (``views_v2.py``)."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser | None:
        """Pick the JSON parser for an untyped body, else choose by Content-Type."""
        # The media type alone, as Flask's request.mimetype reads it: "; charset=x" is untyped.
        if not request.content_type.split(";")[0].strip():
            return parsers[0]
        return super().select_parser(request, parsers)


def json_body(request: Request) -> Any:
    """Return the parsed body; an empty body is an error, not an empty object."""
    if request.stream is None:
        # DRF skips parsing (and the media-type check) for an empty body.
        if request.negotiator.select_parser(request, request.parsers) is None:
            raise UnsupportedMediaType(request.content_type)
        raise ParseError()
    return request.data
