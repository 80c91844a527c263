"""The HTTP contract both apps implement, in the parts that are not framework code.

``openapi.json`` beside this file is the single source of truth. This module holds what both apps
must produce identically and would otherwise each write down: the JSON codec, the error codes and
messages, the response headers and the request-ID rule. No web framework is imported here.
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from model import DEFAULT_MAX_BATCH_SIZE, DEFAULT_VARIANT, Model, artifact_dir
from model.batching import DEFAULT_MAX_QUEUE, Alive

OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.json"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024

# Every response of either app carries these.
RESPONSE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# code -> (status, message). The status of a code never varies.
ERRORS: dict[str, tuple[int, str]] = {
    "bad_request": (400, "The request is malformed."),
    "malformed_json": (400, "The request body is not valid JSON."),
    "not_found": (404, "Nothing is served at this path."),
    "unauthorized": (401, "The request needs valid credentials."),
    "method_not_allowed": (405, "This method is not allowed on this path."),
    "payload_too_large": (413, "The request body is larger than the limit."),
    "unsupported_media_type": (415, "The request body must be application/json."),
    "validation_error": (422, "The request does not fit the contract; see details."),
    # The reference apps need no credentials and set no limit; a deployment that adds them
    # (the benchmark's ladders do) answers these.
    "too_many_requests": (429, "Too many requests; try again later."),
    "internal_error": (500, "The server failed to answer; the error was logged."),
    "not_ready": (503, "The model is not loaded yet."),
    # Adaptive batching's queue is full, or the worker is shutting down (model/batching.py);
    # sent with Retry-After.
    "overloaded": (503, "The server cannot take this request now; retry after Retry-After."),
}
# Codes that share their status with another one: a status alone never means them.
_NARROWER = frozenset({"malformed_json", "overloaded"})
_CODE_OF_STATUS = {status: code for code, (status, _) in ERRORS.items() if code not in _NARROWER}

# Settings both apps read from the environment as MLAPI_<NAME>, with the same defaults.
ENV_PREFIX = "MLAPI"
SETTINGS_DEFAULTS: dict[str, Any] = {
    "MODEL_VARIANT": DEFAULT_VARIANT,
    "MODEL_DIR": "",  # empty: model/artifacts/<MODEL_VARIANT>
    "MAX_BATCH_SIZE": DEFAULT_MAX_BATCH_SIZE,
    "MAX_BODY_BYTES": DEFAULT_MAX_BODY_BYTES,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # GET /metrics and the recording behind it (contract/metrics.py); off, /metrics answers 404.
    "METRICS_ENABLED": True,
    # Adaptive batching (model/batching.py): rows per model call (below 2: off), how long a
    # batch's first request waits for others, how many requests may wait. It needs gunicorn's
    # gthread worker with at least BATCH_MAX_SIZE threads.
    "BATCH_MAX_SIZE": 0,
    "BATCH_MAX_WAIT_MS": 0.0,
    "BATCH_MAX_QUEUE": DEFAULT_MAX_QUEUE,
}
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})

# The envelope around the instances: {"instances": [...]} and nothing else.
ENVELOPE_FIELD = "instances"
BODY_NOT_OBJECT = "must be a JSON object with an 'instances' array"
FIELD_REQUIRED = "is required"
FIELD_NOT_ALLOWED = "is not allowed"
INSTANCES_NOT_LIST = "must be an array of objects"

Details = Iterable[tuple[Sequence[str | int], str]]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def loads(data: bytes | str) -> Any:
    """Parse a request body as strict JSON: UTF-8, no NaN or Infinity, bounded nesting."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(obj: Any) -> str:
    """Serialize a response body: compact, ASCII, keys in insertion order, no NaN."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def error_body(code: str, details: Details = (), message: str | None = None) -> dict[str, Any]:
    """Return the contract's error body for an error code."""
    status, default_message = ERRORS[code]
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message or default_message,
            "details": [{"loc": list(loc), "message": text} for loc, text in details],
        }
    }


# /v2 speaks the Open Inference Protocol (contract/v2.py), whose errors are {"error": "..."}
# with the same statuses, except that a request that does not fit the model is a 400.
V2_PREFIX = "/v2"
_V2_DETAILS_SHOWN = 5
_V2_NAME_SHOWN = 64


def is_v2(path: str) -> bool:
    """Tell whether a request path belongs to the Open Inference Protocol's endpoints."""
    return path == V2_PREFIX or path.startswith(V2_PREFIX + "/")


def _where(loc: Sequence[str | int]) -> str:
    """Write a location as the protocol's clients read it: ``inputs[0].data[31]``."""
    text = ""
    for part in loc:
        # A key the client sent is echoed, cut to a bounded length.
        name = str(part)[:_V2_NAME_SHOWN]
        text += f"[{part}]" if isinstance(part, int) else f".{name}" if text else name
    return text or "body"


def error_answer(
    path: str, code: str, details: Details = (), message: str | None = None
) -> tuple[dict[str, Any], int]:
    """Return the error body and status for a request: /v2 in the protocol's form, else ours."""
    if not is_v2(path):
        return error_body(code, details, message), status_of(code)
    listed = [f"{_where(loc)}: {text}" for loc, text in details]
    if len(listed) > _V2_DETAILS_SHOWN:
        listed[_V2_DETAILS_SHOWN:] = [f"and {len(listed) - _V2_DETAILS_SHOWN} more problems"]
    text = message or "; ".join(listed) or ERRORS[code][1]
    return {"error": text}, 400 if code == "validation_error" else status_of(code)


def status_of(code: str) -> int:
    """Return the HTTP status of an error code."""
    return ERRORS[code][0]


def code_for_status(status: int) -> str:
    """Return the error code of an HTTP status; any other client error is a bad request."""
    return _CODE_OF_STATUS.get(status, "internal_error" if status >= 500 else "bad_request")


def setting(name: str) -> str:
    """Return the MLAPI_<name> environment variable, or its default, as a string."""
    return os.environ.get(f"{ENV_PREFIX}_{name}", str(SETTINGS_DEFAULTS[name]))


def flag(value: object) -> bool:
    """Read an on/off setting (a bool, 1/0, true/false, yes/no or on/off); refuse anything else."""
    text = str(value).strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise ValueError(f"{value!r} is not an on/off setting; use true or false")


def host_list(value: str) -> list[str]:
    """Split a comma-separated host setting into a list."""
    return [host.strip() for host in value.split(",") if host.strip()]


def model_dir(variant: str, directory: str = "") -> Path:
    """Return the artifact directory to serve: an explicit one, else the variant's default."""
    return Path(directory) if directory else artifact_dir(variant)


def client_alive(environ: Mapping[str, Any]) -> Alive | None:
    """Return a check that the request's client is still connected, when the server exposes
    its socket (gunicorn does, as ``gunicorn.socket``); None otherwise.

    The batcher asks it just before a model call, so a request whose client hung up costs no
    model time. A socket that is readable and holds no byte is closed; one holding bytes (a
    pipelined next request) is a client still there.
    """
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket):
        return None

    def alive() -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return not readable or sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:  # readable, then nothing to read after all: still connected
            return True
        except (OSError, ValueError):  # reset, or already closed on our side
            return False

    return alive


def request_id(incoming: str | None) -> str:
    """Echo a sane incoming request ID, else make a new one."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


# The order of the methods in an Allow header: DRF's (``APIView.http_method_names``), which
# Flask's 405 matches through ``allow``; Werkzeug keeps the allowed methods in a set, whose
# order changes with the process's hash seed.
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


def allow(methods: Iterable[str]) -> str:
    """Return the Allow header of a 405 answer: the methods in the contract's order."""
    upper = {method.upper() for method in methods}
    return ", ".join(
        sorted(
            upper,
            key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m),
        )
    )


def server_timing(seconds: float) -> str:
    """Return the Server-Timing value for time spent in the model."""
    return f"model;dur={seconds * 1000:.3f}"


def live_body() -> dict[str, Any]:
    """Return the liveness body."""
    return {"status": "ok"}


def model_ref(model: Model) -> dict[str, str]:
    """Return the short reference to a model used in ready and predict bodies."""
    return {"name": model.name, "version": model.version}


def ready_body(model: Model) -> dict[str, Any]:
    """Return the readiness body of a loaded model."""
    return {"status": "ready", "model": model_ref(model)}


def predict_body(model: Model, predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the prediction body."""
    return {"model": model_ref(model), "predictions": predictions}


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI document, parsed once per process."""
    return json.loads(OPENAPI_PATH.read_text())
