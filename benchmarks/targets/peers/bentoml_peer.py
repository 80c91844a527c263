"""The /v1 prediction endpoint in BentoML, as its documentation serves a model: a service class
that loads the model in ``__init__`` and one ``@bentoml.api`` method whose parameter is the body's
field; batching off (``batchable`` is False by default), access log off, one worker unless
WEB_CONCURRENCY (the variable gunicorn and uvicorn read) asks for more.

A peer the benchmark measures beside the apps (``python -m benchmarks peers``), served by
``bentoml serve`` from ``.venv-peers/bentoml`` (``make peers``); not a product app. It serves POST
/v1/predict (BentoML adds /livez and /readyz, /metrics and its docs); its answers to valid requests
carry the apps' probabilities, its refusals are BentoML's own (400, ``{"error": ...}``).
"""

from __future__ import annotations

import os
from typing import Any

import bentoml
from bentoml.exceptions import InvalidArgument

from contract import model_dir, predict_body
from model import InvalidInput, load


@bentoml.service(
    workers=int(os.environ.get("WEB_CONCURRENCY", "1")), logging={"access": {"enabled": False}}
)
class Predictor:
    """The breast-cancer classifier, one row or a batch per request."""

    def __init__(self) -> None:
        variant = os.environ.get("MLAPI_MODEL_VARIANT", "light")
        self.model = load(model_dir(variant, os.environ.get("MLAPI_MODEL_DIR", "")))

    @bentoml.api(route="/v1/predict")
    def predict(self, instances: list[dict[str, float]]) -> dict[str, Any]:
        """Predict the class of each instance; a row that does not fit the model is a 400."""
        try:
            return predict_body(self.model, self.model.predict(instances))
        except InvalidInput as exc:
            raise InvalidArgument(str(exc)) from exc
