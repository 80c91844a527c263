"""The Flask app with a sleep in front of its handler: a twin that is not the same app.

The benchmark's A/A check measures the Flask app twice and expects the two copies not to be
told apart; this one answers alike but later, so a run that measures it as the twin must refuse
to let its timing decide anything. ``MLAPI_TWIN_DELAY_MS`` sets the sleep (default 2 ms).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask_app.wsgi import app as flask

DELAY_S = float(os.environ.get("MLAPI_TWIN_DELAY_MS", "2")) / 1000


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Sleep, then answer as the Flask app does."""
    time.sleep(DELAY_S)
    return flask(environ, start_response)
