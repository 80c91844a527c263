"""The smallest Flask app that serves the benchmark's prediction: Flask's own floor.

One route per endpoint, Flask's defaults for everything else: no contract headers, no trusted
hosts, no error mapping, no envelope check. It answers well-formed requests only, with the same
runtime and the same bodies as the real app (``flask_app/``). The throughput comparison runs it
beside the real app to tell the framework's unavoidable cost from what the contract adds.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

import contract
from benchmarks.targets.baseline import MODEL

app = Flask(__name__)
# The same JSON output as the contract's codec, through Flask's documented provider attributes.
app.json.sort_keys = False  # type: ignore[attr-defined]
app.json.compact = True  # type: ignore[attr-defined]


@app.get("/health/live")
def live() -> dict[str, Any]:
    """Report that the process is up."""
    return contract.live_body()


@app.get("/health/ready")
def ready() -> dict[str, Any]:
    """Report that the model is loaded."""
    return contract.ready_body(MODEL)


@app.post("/v1/predict")
def predict() -> dict[str, Any]:
    """Predict the class of each instance."""
    return contract.predict_body(MODEL, MODEL.predict(request.get_json()["instances"]))
