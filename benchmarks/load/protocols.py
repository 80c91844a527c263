"""One-row predictions and held-out batches in either protocol a peer answers: the /v1 contract
(``{"instances": [{feature: value}]}``) or the Open Inference Protocol v2 (one FP64 tensor, the
model's features in its order, ``predict_proba`` asked for), and the probabilities read back.

The peers' command sends the same row to every target in its own protocol; the parity gate sends
the held-out rows and compares what comes back with the model's own ``predict_proba``.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.results.vocabulary import Protocol

V1_PATH = "/v1/predict"
INPUT_NAME = "input-0"


def path(protocol: Protocol, model_name: str) -> str:
    """Return where a protocol's predictions are posted."""
    return V1_PATH if protocol == "v1" else f"/v2/models/{model_name}/infer"


def body(protocol: Protocol, rows: list[dict[str, float]], features: list[str]) -> bytes:
    """Return a request body predicting ``rows`` in ``protocol``."""
    if protocol == "v1":
        return json.dumps({"instances": rows}).encode()
    tensor = {
        "name": INPUT_NAME,
        "shape": [len(rows), len(features)],
        "datatype": "FP64",
        "data": [row[name] for row in rows for name in features],
    }
    return json.dumps({"inputs": [tensor], "outputs": [{"name": "predict_proba"}]}).encode()


def probabilities(protocol: Protocol, answer: Any, classes: list[str]) -> list[list[float]]:
    """Return each row's class probabilities, in the model's class order, from an answer."""
    if protocol == "v1":
        return [[p["probabilities"][c] for c in classes] for p in answer["predictions"]]
    (output,) = [o for o in answer["outputs"] if o["name"] == "predict_proba"]
    rows, width = output["shape"]
    data = output["data"]
    return [data[i * width : (i + 1) * width] for i in range(rows)]
