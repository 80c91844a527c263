"""The Open Inference Protocol (v2) inference requests that any v2 server here is sent.

One corpus, replayed against MLServer (tests/test_mlserver.py) and against both apps, so that
their answers can be compared request by request. Each request is data: a path below the
server's base URL and a body (a JSON value, or bytes sent as they are). The rows are held-out
rows of the dataset with their features in the manifest's order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from model.data import holdout_instances

BATCH_ROWS = 20
UNKNOWN_MODEL = "no-such-model"
UNKNOWN_VERSION = "000000000000"
UNSUPPORTED_OUTPUT = "decision_function"
BOTH = ("predict", "predict_proba")


@dataclass(frozen=True)
class OipRequest:
    """One inference request: where it goes below the base URL and what it sends."""

    path: str
    body: Any


def rows(manifest: dict[str, Any], count: int = BATCH_ROWS) -> list[list[float]]:
    """Return the first ``count`` held-out rows, each a list in the manifest's feature order."""
    features = [feature["name"] for feature in manifest["features"]]
    return [[instance[name] for name in features] for instance in holdout_instances(count)]


def tensor(
    batch: Sequence[Sequence[float]], datatype: str = "FP64", *, nested: bool = False
) -> dict[str, Any]:
    """Return one input tensor of shape [N, 30]: ``data`` flat row-major, or one list per row."""
    data = [list(row) for row in batch] if nested else [value for row in batch for value in row]
    return {
        "name": "input-0",
        "shape": [len(batch), len(batch[0])],
        "datatype": datatype,
        "data": data,
    }


def outputs(*names: str) -> list[dict[str, str]]:
    """Return the ``outputs`` of a request that asks for ``names``, in that order."""
    return [{"name": name} for name in names]


def corpus(manifest: dict[str, Any]) -> dict[str, OipRequest]:
    """Return the requests by name, for the model ``manifest`` describes."""
    name, version = manifest["name"], manifest["version"]
    batch = rows(manifest)
    one = batch[:1]
    infer = f"/v2/models/{name}/infer"
    versioned = f"/v2/models/{name}/versions/{version}/infer"
    return {
        "one row, FP64, nested": OipRequest(
            infer, {"inputs": [tensor(one, nested=True)], "outputs": outputs(*BOTH)}
        ),
        "one row, FP64, flat": OipRequest(
            infer, {"inputs": [tensor(one)], "outputs": outputs(*BOTH)}
        ),
        "batch, FP64": OipRequest(infer, {"inputs": [tensor(batch)], "outputs": outputs(*BOTH)}),
        "batch, FP64, at the version": OipRequest(
            versioned, {"inputs": [tensor(batch)], "outputs": outputs(*BOTH)}
        ),
        "batch, FP32": OipRequest(
            infer, {"inputs": [tensor(batch, "FP32")], "outputs": outputs(*BOTH)}
        ),
        "id and parameters": OipRequest(
            infer,
            {
                "id": "request-1",
                "parameters": {"note": "ignored"},
                "inputs": [{**tensor(one), "parameters": {"note": "ignored"}}],
                "outputs": outputs(*BOTH),
            },
        ),
        "default outputs": OipRequest(infer, {"inputs": [tensor(batch)]}),
        "outputs: predict": OipRequest(
            infer, {"inputs": [tensor(batch)], "outputs": outputs("predict")}
        ),
        "outputs: predict_proba": OipRequest(
            infer, {"inputs": [tensor(batch)], "outputs": outputs("predict_proba")}
        ),
        "outputs: predict_proba, predict": OipRequest(
            infer, {"inputs": [tensor(batch)], "outputs": outputs(*reversed(BOTH))}
        ),
        "unknown model": OipRequest(f"/v2/models/{UNKNOWN_MODEL}/infer", {"inputs": [tensor(one)]}),
        "unknown version": OipRequest(
            f"/v2/models/{name}/versions/{UNKNOWN_VERSION}/infer", {"inputs": [tensor(one)]}
        ),
        "unsupported output": OipRequest(
            infer, {"inputs": [tensor(one)], "outputs": outputs(UNSUPPORTED_OUTPUT)}
        ),
    }


INVALID_NAMES = (
    "shape that does not match data",
    "wrong feature count",
    "output transform",
    "malformed JSON",
    "NaN",
)


def invalid(manifest: dict[str, Any]) -> dict[str, OipRequest]:
    """Return requests the apps refuse with 400 in the protocol's error form, by name."""
    one = rows(manifest, 1)
    row = one[0]
    infer = f"/v2/models/{manifest['name']}/infer"
    return {
        "shape that does not match data": OipRequest(
            infer, {"inputs": [{**tensor(one), "shape": [2, len(row)]}]}
        ),
        "wrong feature count": OipRequest(infer, {"inputs": [tensor([row[:-1]])]}),
        # A name MLServer's scikit-learn runtime accepts for an output (a pipeline may transform).
        "output transform": OipRequest(
            infer, {"inputs": [tensor(one)], "outputs": outputs("transform")}
        ),
        "malformed JSON": OipRequest(infer, b'{"inputs": ['),
        # JSON has no NaN; Python's json writes it all the same, as many clients do.
        "NaN": OipRequest(infer, json.dumps({"inputs": [tensor([[math.nan, *row[1:]]])]}).encode()),
    }


def differing(manifest: dict[str, Any]) -> dict[str, tuple[OipRequest, dict[str, str]]]:
    """Return requests MLServer answers with another status than the apps, with their headers."""
    one = rows(manifest, 1)
    infer = f"/v2/models/{manifest['name']}/infer"
    return {
        "INT64 datatype": (OipRequest(infer, {"inputs": [tensor(one, "INT64")]}), {}),
        "a text/plain body": (
            OipRequest(infer, {"inputs": [tensor(one)]}),
            {"Content-Type": "text/plain"},
        ),
        "id null": (OipRequest(infer, {"id": None, "inputs": [tensor(one)]}), {}),
        "parameters null": (OipRequest(infer, {"parameters": None, "inputs": [tensor(one)]}), {}),
    }


def names_only() -> dict[str, Any]:
    """Return a stand-in manifest with the dataset's features, to list the requests by name."""
    features = [{"name": name} for name in holdout_instances(1)[0]]
    return {"name": "model", "version": "0", "features": features}
