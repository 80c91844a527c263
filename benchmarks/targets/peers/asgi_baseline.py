"""A bare-ASGI app: the WSGI baseline's twin (``benchmarks/targets/baseline.py``) on uvicorn.

The same model runtime, bodies and headers as the bare-WSGI baseline, with no web framework:
set beside it (on gunicorn), it tells how much of a request the server costs; set beside the
FastAPI peer (on the same uvicorn), how much FastAPI does. It serves only ``GET /health/live``,
``GET /health/ready`` and ``POST /v1/predict``, and predicts in the event loop itself (one
request at a time, as one gunicorn sync worker does). Run by the FastAPI peer's interpreter
(``.venv-peers/fastapi``, which has uvicorn); not a third implementation of the contract.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

import contract
import model

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

try:
    MODEL = model.load(
        contract.model_dir(contract.setting("MODEL_VARIANT"), contract.setting("MODEL_DIR")),
        max_batch_size=int(contract.setting("MAX_BATCH_SIZE")),
    )
except model.ModelLoadError as exc:
    sys.exit(f"asgi baseline: cannot serve: {exc}")
MAX_BODY_BYTES = int(contract.setting("MAX_BODY_BYTES"))


async def _body(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(
    scope: dict[str, Any], receive: Receive
) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
    method, path = scope["method"], scope["path"]
    if method == "GET" and path == "/health/live":
        return 200, contract.live_body(), []
    if method == "GET" and path == "/health/ready":
        return 200, contract.ready_body(MODEL), []
    if method != "POST" or path != "/v1/predict":
        return 404, contract.error_body("not_found"), []
    headers = dict(scope["headers"])
    if not headers.get(b"content-type", b"").startswith(b"application/json"):
        return 415, contract.error_body("unsupported_media_type"), []
    if int(headers.get(b"content-length", b"0")) > MAX_BODY_BYTES:
        return 413, contract.error_body("payload_too_large"), []
    try:
        payload = contract.loads(await _body(receive))
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


async def _lifespan(receive: Receive, send: Send) -> None:
    # The model is loaded at import, as the WSGI baseline's is: nothing to do but agree.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Answer one request."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    status, body, extra = await _answer(scope, receive)
    data = (contract.dumps(body) + "\n").encode("ascii")
    incoming = dict(scope["headers"]).get(contract.REQUEST_ID_HEADER.lower().encode())
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        *contract.RESPONSE_HEADERS.items(),
        (contract.REQUEST_ID_HEADER, contract.request_id(incoming and incoming.decode("latin-1"))),
        *extra,
    ]
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})
