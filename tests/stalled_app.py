"""Test-only WSGI targets with a known behaviour, for checking the load generators.

``application`` answers /health/live at once, except that it stalls once, for
``MLAPI_STALL_S`` seconds (default 1), on the first request that arrives ``MLAPI_STALL_AFTER_S``
seconds (default 1) after its first request. Under closed-loop load only the requests in flight
when it stalls see the stall; under open-loop load every request scheduled during it does.

``slow`` sleeps ``MLAPI_SLEEP_MS`` milliseconds (default 20) on every request: served by one
worker that holds one request at a time (gunicorn.conf.py's default: one thread), it can answer
at most 1000 / MLAPI_SLEEP_MS requests a second, its known capacity.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

STALL_S = float(os.environ.get("MLAPI_STALL_S", "1.0"))
STALL_AFTER_S = float(os.environ.get("MLAPI_STALL_AFTER_S", "1.0"))
SLEEP_S = float(os.environ.get("MLAPI_SLEEP_MS", "20")) / 1000
BODY = b'{"status":"ok"}\n'
_first: list[float] = []  # the moment of the first request, once known
_stalled: list[bool] = []


def _answer(start_response: Callable[..., Any]) -> Iterable[bytes]:
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]
    start_response("200 OK", headers)
    return [BODY]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer at once, but stall once, a set time after the first request the load sends."""
    if environ.get("PATH_INFO") != "/health/live":  # readiness polls do not start the clock
        return _answer(start_response)
    now = time.monotonic()
    if not _first:
        _first.append(now)
    if not _stalled and now - _first[0] >= STALL_AFTER_S:
        _stalled.append(True)
        time.sleep(STALL_S)
    return _answer(start_response)


def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer every request after the same fixed sleep."""
    time.sleep(SLEEP_S)
    return _answer(start_response)
