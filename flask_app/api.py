"""The API blueprint: health, model card, predictions, metrics and the contract itself."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from contract import (
    client_alive,
    live_body,
    openapi_document,
    predict_body,
    ready_body,
    server_timing,
)
from contract.metrics import CONTENT_TYPE, Metrics
from flask_app.schemas import predict_instances
from model import Model

bp = Blueprint("api", __name__)


def loaded_model() -> Model:
    """Return the app's model, or answer 503 when none is loaded."""
    model = current_app.extensions.get("model")
    if model is None:
        abort(503)
    return model


def app_metrics() -> Metrics | None:
    """Return the app's metrics, or None when METRICS_ENABLED is off."""
    return current_app.extensions["metrics"]


@bp.get("/health/live")
def live() -> dict[str, Any]:
    """Report that the process is up."""
    return live_body()


@bp.get("/health/ready")
def ready() -> dict[str, Any]:
    """Report that the model is loaded."""
    return ready_body(loaded_model())


@bp.get("/v1/model")
def model_card() -> dict[str, Any]:
    """Describe the served model."""
    return loaded_model().card


@bp.post("/v1/predict")
def predict() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Predict the class of each instance."""
    model = loaded_model()
    instances = predict_instances(request.get_json())
    started = perf_counter()
    predictions = model.predict(instances, alive=client_alive(request.environ))
    elapsed = perf_counter() - started
    if (recorder := app_metrics()) is not None:
        recorder.predicted(len(predictions), elapsed)
    return predict_body(model, predictions), 200, {"Server-Timing": server_timing(elapsed)}


@bp.get("/metrics")
def metrics() -> Response:
    """Return the app's metrics in Prometheus' text format, or 404 when they are off."""
    recorder = app_metrics()
    if recorder is None:
        abort(404)
    return Response(recorder.exposition(), content_type=CONTENT_TYPE)


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    """Return the OpenAPI document this app implements."""
    return openapi_document()
