"""A test-only WSGI target: it answers how many objects the garbage collector holds frozen.

Served with the shared gunicorn.conf.py, it shows from inside a worker whether the master ran
``gc.freeze()`` before forking it, without adding an endpoint to the apps' contract.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer the worker's frozen object count as plain text, on every path."""
    body = f"{gc.get_freeze_count()}\n".encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
