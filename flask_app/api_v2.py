"""The Open Inference Protocol v2 blueprint: server and model metadata, readiness, inference."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from flask import Blueprint, request

from contract import client_alive, server_timing, v2
from flask_app.api import app_metrics, loaded_model

bp = Blueprint("v2", __name__)
# A model's routes with and without /versions/<version>; the shorter one passes version=None.
LATEST = {"version": None}


@bp.get("/v2")
def server_metadata() -> dict[str, Any]:
    """Describe the server."""
    return v2.server_metadata()


@bp.get("/v2/health/live")
def server_live() -> dict[str, Any]:
    """Report that the process is up."""
    return v2.server_live()


@bp.get("/v2/health/ready")
def server_ready() -> dict[str, Any]:
    """Report that the model is loaded."""
    loaded_model()
    return v2.server_ready()


@bp.get("/v2/models/<name>", defaults=LATEST)
@bp.get("/v2/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None) -> dict[str, Any]:
    """Describe the model's input and outputs."""
    return v2.model_metadata(v2.served_model(loaded_model(), name, version))


@bp.get("/v2/models/<name>/ready", defaults=LATEST)
@bp.get("/v2/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None) -> dict[str, Any]:
    """Report that the model is ready."""
    return v2.model_ready(v2.served_model(loaded_model(), name, version))


@bp.post("/v2/models/<name>/infer", defaults=LATEST)
@bp.post("/v2/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Predict the rows of the request's tensor."""
    model = v2.served_model(loaded_model(), name, version)
    # The protocol's clients may send no Content-Type at all: such a body is read as JSON.
    inference = v2.parse_infer(model, request.get_json(force=not request.mimetype))
    started = perf_counter()
    body = v2.infer_body(model, inference, alive=client_alive(request.environ))
    elapsed = perf_counter() - started
    if (recorder := app_metrics()) is not None:
        recorder.predicted(len(inference.X), elapsed)
    return body, 200, {"Server-Timing": server_timing(elapsed)}
