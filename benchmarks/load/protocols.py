"""Predictions in either protocol a server answers, through the load scenarios' own requests: the
/v1 contract (``predict_one``: ``{"instances": [{feature: value}]}``) or the Open Inference
Protocol v2 (``v2_one``: one FP64 tensor, the features in the manifest's order, ``predict`` and
``predict_proba`` asked for, so every v2 server does the same work), and the probabilities read
back from either answer.

The peers' command sends every server the first held-out row in its own protocol; the parity gate
sends all the held-out rows and compares what comes back with the model's own ``predict_proba``.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.load import payloads, wrk
from benchmarks.results.vocabulary import Protocol, Scenario

SCENARIO: dict[Protocol, Scenario] = {"v1": "predict_one", "v2": "v2_one"}


def path(protocol: Protocol) -> str:
    """Return where a protocol's predictions are posted (its wrk scenario's path)."""
    return wrk.SCENARIOS[SCENARIO[protocol]][1]


def body(protocol: Protocol, rows: list[dict[str, float]]) -> bytes:
    """Return a request body predicting ``rows`` in ``protocol``, as the load scenarios write it."""
    if protocol == "v1":
        return json.dumps({"instances": rows}).encode()
    return payloads.v2_body(rows).encode()


def probabilities(protocol: Protocol, answer: Any, classes: list[str]) -> list[list[float]]:
    """Return each row's class probabilities, in the model's class order, from an answer."""
    if protocol == "v1":
        return [[p["probabilities"][c] for c in classes] for p in answer["predictions"]]
    (output,) = [o for o in answer["outputs"] if o["name"] == "predict_proba"]
    rows, width = output["shape"]
    data = output["data"]
    return [data[i * width : (i + 1) * width] for i in range(rows)]
