"""A bare-WSGI app: the same model runtime and response bodies with no web framework.

It serves only what the throughput comparison needs (``GET /health/live``, ``GET
/health/ready`` and ``POST /v1/predict``), so the benchmark can tell how much of a request each
framework costs. Not a third implementation of the contract.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

import contract
import model

try:
    MODEL = model.load(
        contract.model_dir(contract.setting("MODEL_VARIANT"), contract.setting("MODEL_DIR")),
        max_batch_size=int(contract.setting("MAX_BATCH_SIZE")),
    )
except model.ModelLoadError as exc:
    sys.exit(f"baseline: cannot serve: {exc}")
MAX_BODY_BYTES = int(contract.setting("MAX_BODY_BYTES"))
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
}


def _answer(environ: dict[str, Any]) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if method == "GET" and path == "/health/live":
        return 200, contract.live_body(), []
    if method == "GET" and path == "/health/ready":
        return 200, contract.ready_body(MODEL), []
    if method != "POST" or path != "/v1/predict":
        return 404, contract.error_body("not_found"), []
    if not environ.get("CONTENT_TYPE", "").startswith("application/json"):
        return 415, contract.error_body("unsupported_media_type"), []
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY_BYTES:
        return 413, contract.error_body("payload_too_large"), []
    try:
        payload = contract.loads(environ["wsgi.input"].read(length))
    except ValueError:
        return 400, contract.error_body("malformed_json"), []
    instances = payload.get("instances") if isinstance(payload, dict) else None
    started = perf_counter()
    try:
        predictions = MODEL.predict(instances)
    except model.InvalidInput as exc:
        return 422, contract.error_body("validation_error", exc.details), []
    timing = [("Server-Timing", contract.server_timing(perf_counter() - started))]
    return 200, contract.predict_body(MODEL, predictions), timing


def application(
    environ: dict[str, Any], start_response: Callable[[str, list[tuple[str, str]]], Any]
) -> Iterable[bytes]:
    """Answer one request."""
    status, body, extra = _answer(environ)
    data = (contract.dumps(body) + "\n").encode("ascii")
    incoming = environ.get("HTTP_X_REQUEST_ID")
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        *contract.RESPONSE_HEADERS.items(),
        (contract.REQUEST_ID_HEADER, contract.request_id(incoming)),
        *extra,
    ]
    start_response(f"{status} {_REASONS[status]}", headers)
    return [data]
