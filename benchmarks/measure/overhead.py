"""Where a request's time goes, in process: each target's WSGI callable called directly.

No server, no network, no load generator: the noise of those is what makes small framework
costs hard to see in a throughput run. For each target (the bare-WSGI baseline, Flask, Django)
it times, in microseconds of process CPU per call:

- ``health``: ``GET /health/live``, the framework's floor (no model, smallest body);
- ``predict``: ``POST /v1/predict`` with one row of the light model;
- ``model_in_request``: the part of ``predict`` spent in the model runtime, read from the
  ``Server-Timing`` header the contract puts on every prediction;
- ``model_alone``: ``Model.predict`` on the same row in the same process, outside any request;
- ``predict_canned``: ``predict`` again with the model's answer computed beforehand (the loaded
  model's ``predict`` replaced by one returning that answer), so only the request's own code runs;
- ``envelope``: the app's own check of the ``{"instances": [...]}`` envelope on a parsed body
  (``flask_app/schemas.py``; the DRF serializer in ``django_app/serializers.py``).

An app's extra cost over the baseline then splits in two: its own code (``predict_canned`` over the
baseline's), and interference (``predict - predict_canned`` over the baseline's): the model and a
framework's code, run in turn, each run slower than alone, the likeliest cause being CPU caches
that each leaves colder for the other. ``model_in_request`` over ``model_alone`` is the model's
part of it.
Each target runs in its own interpreter, so what one imports cannot change another's figures.

    python -m benchmarks overhead
    python -m benchmarks overhead --target django --json overhead.json
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from benchmarks.measure import micro
from benchmarks.results.records import Overhead
from benchmarks.results.vocabulary import Target
from benchmarks.targets import RUN

if TYPE_CHECKING:  # the counted interpreters import this module: it adds no import of its own
    from benchmarks.cpus import CpuSet

TARGETS = RUN  # the bare-WSGI baseline and the two apps
HOST = "127.0.0.1"


def per_call_us(fn: Callable[[], object], budget_s: float) -> float:
    """Return the process CPU time of one call in microseconds: the fastest of 7 loops.

    The fastest, not the median: on a shared machine a slower loop was slowed by something else.
    """
    return micro.per_call_us(
        fn, repeats=7, budget_s=budget_s / 7, clock=time.process_time, pick=min
    )


def environ(method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    """Return a WSGI environ like gunicorn's for one request to 127.0.0.1."""
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": HOST,
        "REMOTE_PORT": "40000",
        "HTTP_HOST": f"{HOST}:8000",
        "HTTP_USER_AGENT": "benchmarks.overhead",
        "CONTENT_TYPE": "application/json" if body else "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app: Callable, env: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI app the way a server does: start, read every chunk, close."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    chunks = app(env, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], answer["headers"], body


def load_target(name: str) -> tuple[Callable, Any, Callable[[Any], object] | None]:
    """Import one target; return its WSGI app, its loaded model and its envelope check."""
    if name == "baseline":
        from benchmarks.targets import baseline

        return baseline.application, baseline.MODEL, None
    if name == "flask":
        from flask_app.schemas import predict_instances
        from flask_app.wsgi import app

        return app, app.extensions["model"], predict_instances
    os.environ.setdefault("DJANGO_SECRET_KEY", "overhead-benchmark-only")
    from django.apps import apps

    from django_app.serializers import PredictRequestSerializer
    from django_app.wsgi import application

    def check_envelope(payload: Any) -> object:
        serializer = PredictRequestSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    return application, apps.get_app_config("api").model, check_envelope


def model_ms(headers: dict[str, str]) -> float:
    """Return the model time of a prediction from its ``Server-Timing: model;dur=<ms>``."""
    return float(headers["Server-Timing"].partition("dur=")[2])


def measure(name: str, budget_s: float = 2.0) -> Overhead:
    """Time every case for one target in this process."""
    from model.data import holdout_instances

    app, model, check_envelope = load_target(name)
    payload = {"instances": holdout_instances(1)}
    body = json.dumps(payload).encode()
    for method, path, data in (("GET", "/health/live", b""), ("POST", "/v1/predict", body)):
        status, _, answer = call(app, environ(method, path, data))
        if not status.startswith("200"):
            raise RuntimeError(f"{name}: {method} {path} answered {status}: {answer[:200]!r}")

    model_times: list[float] = []

    def predict() -> None:
        model_times.append(model_ms(call(app, environ("POST", "/v1/predict", body))[1]))

    health_us = per_call_us(lambda: call(app, environ("GET", "/health/live")), budget_s)
    predict_us = per_call_us(predict, budget_s)
    model_in_request_us = statistics.median(model_times) * 1000
    model_alone_us = per_call_us(lambda: model.predict(payload["instances"]), budget_s)
    answer = model.predict(payload["instances"])
    model.predict = lambda instances: answer  # this process only; the app calls model.predict
    predict_canned_us = per_call_us(
        lambda: call(app, environ("POST", "/v1/predict", body)), budget_s
    )
    envelope_us = per_call_us(lambda: check_envelope(payload), budget_s) if check_envelope else None
    return {
        "target": cast(Target, name),  # load_target knows the run targets only
        "health_us": health_us,
        "predict_us": predict_us,
        "model_in_request_us": model_in_request_us,
        "model_alone_us": model_alone_us,
        "predict_canned_us": predict_canned_us,
        "envelope_us": envelope_us,
    }


def run_in_subprocess(name: str, budget_s: float, cpus: CpuSet | None = None) -> Overhead:
    """Measure one target in a fresh interpreter (pinned to ``cpus`` if given)."""
    command = [sys.executable, "-m", "benchmarks.measure.child", "overhead", name, str(budget_s)]
    if cpus:
        command = ["taskset", "--cpu-list", str(cpus), *command]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)
