"""A fixed set of requests every app must answer identically (status and body bytes).

The parity test sends them to both apps in process; the benchmark runner sends them over HTTP
to every target before any load, and stops if two targets disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from model import DEFAULT_VARIANT, artifact_dir
from model.data import holdout_instances
from model.train import MODEL_NAME

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Probe:
    """One request: what to send, and whether the bare-WSGI baseline serves it too."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    baseline: bool = False


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode()


def probes() -> list[Probe]:
    """Return the probe set: valid requests, a batch, and every kind of invalid request."""
    rows = holdout_instances(100)
    row = rows[0]
    missing = {k: v for k, v in row.items() if k != "worst_area"}
    predict = [
        ("predict-one", {"instances": rows[:1]}, True),
        ("predict-batch", {"instances": rows}, True),
        ("predict-ints", {"instances": [{k: round(v) for k, v in row.items()}]}, True),
        ("missing-feature", {"instances": [missing]}, True),
        ("unknown-feature", {"instances": [dict(row, colour=1.0)]}, True),
        ("string-value", {"instances": [dict(row, mean_radius="1")]}, True),
        ("boolean-value", {"instances": [dict(row, mean_radius=False)]}, True),
        ("huge-value", {"instances": [dict(row, mean_radius=10**400)]}, True),
        ("out-of-range", {"instances": [dict(row, worst_area=1e308)]}, True),
        ("many-problems", {"instances": [dict(missing, mean_radius=None), 3, row]}, True),
        ("empty-batch", {"instances": []}, True),
        ("oversized-batch", {"instances": [row] * 1001}, True),
        ("body-array", [row], False),
        ("body-null", None, False),
        ("no-instances", {"rows": [row]}, False),
        ("instances-object", {"instances": row}, False),
        ("extra-key", {"instances": [row], "explain": True}, False),
    ]
    found = [
        Probe("live", "GET", "/health/live", baseline=True),
        Probe("ready", "GET", "/health/ready", baseline=True),
        Probe("model-card", "GET", "/v1/model"),
        Probe("openapi", "GET", "/openapi.json"),
        *(Probe(name, "POST", "/v1/predict", _json(p), JSON, b) for name, p, b in predict),
        Probe("malformed-json", "POST", "/v1/predict", b'{"instances": [', JSON, True),
        Probe("nan-literal", "POST", "/v1/predict", b'{"instances": [{"a": NaN}]}', JSON, True),
        Probe(
            "infinity-literal",
            "POST",
            "/v1/predict",
            b'{"instances": [{"a": -Infinity}]}',
            JSON,
            True,
        ),
        # Duplicate keys: JSON leaves them undefined; both apps keep the last, as Python does.
        Probe(
            "duplicate-keys",
            "POST",
            "/v1/predict",
            b'{"instances": ' + _json([row]) + b', "instances": []}',
            JSON,
            True,
        ),
        Probe("not-utf8", "POST", "/v1/predict", b'{"instances": "\xff"}', JSON, True),
        Probe("empty-body", "POST", "/v1/predict", b"", JSON),
        Probe("deep-nesting", "POST", "/v1/predict", b"[" * 100_000 + b"]" * 100_000, JSON),
        Probe(
            "text-plain",
            "POST",
            "/v1/predict",
            _json({"instances": rows[:1]}),
            {"Content-Type": "text/plain"},
            True,
        ),
        Probe("no-content-type", "POST", "/v1/predict", _json({"instances": rows[:1]})),
        Probe("too-large", "POST", "/v1/predict", b" " * (2 * 1024 * 1024 + 1), JSON, True),
        Probe("unknown-path", "GET", "/v1/nothing", baseline=True),
        Probe("trailing-slash", "GET", "/health/live/", baseline=True),
        Probe("wrong-method", "DELETE", "/v1/predict"),
        Probe("options", "OPTIONS", "/v1/predict"),
        Probe("get-predict", "GET", "/v1/predict"),
        Probe("bad-host", "GET", "/health/live", headers={"Host": "attacker.example"}),
        Probe("double-slash", "GET", "/v1//model"),
        # Werkzeug reads any +json type as JSON, DRF's parser application/json only.
        Probe(
            "vendor-json",
            "POST",
            "/v1/predict",
            _json({"instances": rows[:1]}),
            {"Content-Type": "application/vnd.api+json"},
        ),
        *v2_probes(rows, served_version()),
    ]
    return found


def served_version() -> str:
    """Return the version of the default artifact (a probe of another version gets 404 alike)."""
    try:
        manifest = json.loads((artifact_dir(DEFAULT_VARIANT) / "manifest.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    return str(manifest.get("version", "unknown"))


def tensor(rows: list[dict[str, float]], **changes: Any) -> dict[str, Any]:
    """Return an Open Inference Protocol v2 tensor of these rows (nested, FP64), changed."""
    data = [list(row.values()) for row in rows]
    return {
        "name": "input-0",
        "shape": [len(rows), len(rows[0])],
        "datatype": "FP64",
        "data": data,
    } | changes


def v2_probes(rows: list[dict[str, float]], version: str) -> list[Probe]:
    """Return the Open Inference Protocol v2 probes of a server serving ``version``: every
    endpoint, and hostile requests."""
    model = f"/v2/models/{MODEL_NAME}"
    versioned = f"{model}/versions/{version}"
    one = rows[:1]
    width = len(one[0])
    flat = [value for row in rows for value in row.values()]
    infer = [
        ("v2-infer-one", {"inputs": [tensor(one)]}),
        ("v2-infer-batch-flat", {"inputs": [tensor(rows, data=flat)]}),
        ("v2-infer-fp32", {"inputs": [tensor(one, datatype="FP32")]}),
        ("v2-infer-proba", {"inputs": [tensor(one)], "outputs": [{"name": "predict_proba"}]}),
        ("v2-infer-id", {"id": "r-1", "parameters": {"a": 1}, "inputs": [tensor(one)]}),
        ("v2-int64", {"inputs": [tensor(one, datatype="INT64")]}),
        ("v2-bytes", {"inputs": [tensor(one, datatype="BYTES", data=["a"] * width)]}),
        ("v2-shape-mismatch", {"inputs": [tensor(one, shape=[2, width])]}),
        ("v2-wrong-width", {"inputs": [tensor(one, shape=[1, 2], data=[1.0, 2.0])]}),
        ("v2-flat-short", {"inputs": [tensor(one, data=flat[: width - 1])]}),
        ("v2-ragged", {"inputs": [tensor(rows[:2], data=[flat[:width], flat[:3]])]}),
        ("v2-huge-value", {"inputs": [tensor(one, data=[10**400] * width)]}),
        ("v2-out-of-range", {"inputs": [tensor(one, data=[1e308] * width)]}),
        ("v2-string-value", {"inputs": [tensor(one, data=["1"] * width)]}),
        ("v2-boolean-value", {"inputs": [tensor(one, data=[True] * width)]}),
        ("v2-null-value", {"inputs": [tensor(one, data=[None] * width)]}),
        ("v2-too-many-rows", {"inputs": [tensor([one[0]] * 1001)]}),
        ("v2-zero-rows", {"inputs": [tensor(one, shape=[0, width], data=[])]}),
        ("v2-negative-shape", {"inputs": [tensor(one, shape=[-1, width])]}),
        ("v2-three-dims", {"inputs": [tensor(one, shape=[1, width, 1])]}),
        ("v2-two-inputs", {"inputs": [tensor(one), tensor(one)]}),
        ("v2-no-inputs", {"inputs": []}),
        ("v2-no-data", {"inputs": [{"name": "x", "shape": [1, width], "datatype": "FP64"}]}),
        ("v2-unknown-output", {"inputs": [tensor(one)], "outputs": [{"name": "transform"}]}),
        ("v2-unknown-field", {"inputs": [tensor(one)], "explain": True}),
        ("v2-id-number", {"id": 7, "inputs": [tensor(one)]}),
        ("v2-outputs-null", {"inputs": [tensor(one)], "outputs": None}),
        ("v2-body-array", [tensor(one)]),
    ]
    return [
        Probe("v2-server", "GET", "/v2"),
        Probe("v2-live", "GET", "/v2/health/live"),
        Probe("v2-ready", "GET", "/v2/health/ready"),
        Probe("v2-model", "GET", model),
        Probe("v2-model-version", "GET", versioned),
        Probe("v2-model-ready", "GET", f"{model}/ready"),
        Probe("v2-model-version-ready", "GET", f"{versioned}/ready"),
        Probe("v2-unknown-model", "GET", "/v2/models/other"),
        Probe("v2-unknown-version", "GET", f"{model}/versions/0/ready"),
        *(Probe(name, "POST", f"{model}/infer", _json(body), JSON) for name, body in infer),
        Probe("v2-infer-version", "POST", f"{versioned}/infer", _json(infer[0][1]), JSON),
        Probe("v2-infer-untyped", "POST", f"{model}/infer", _json(infer[0][1])),
        Probe("v2-infer-unknown-model", "POST", "/v2/models/other/infer", _json(infer[0][1]), JSON),
        Probe("v2-malformed-json", "POST", f"{model}/infer", b'{"inputs": [', JSON),
        Probe("v2-nan-literal", "POST", f"{model}/infer", b'{"inputs": [{"data": [NaN]}]}', JSON),
        Probe(
            "v2-text-plain",
            "POST",
            f"{model}/infer",
            _json(infer[0][1]),
            {"Content-Type": "text/plain"},
        ),
        Probe("v2-too-large", "POST", f"{model}/infer", b" " * (2 * 1024 * 1024 + 1), JSON),
        Probe("v2-get-infer", "GET", f"{model}/infer"),
        Probe("v2-double-slash", "GET", "/v2//health/live"),
        Probe("v2-double-slash-post", "POST", "/v2//health/live"),
        # Parameters without a media type: untyped, read as JSON.
        Probe(
            "v2-infer-charset-only",
            "POST",
            f"{model}/infer",
            _json(infer[0][1]),
            {"Content-Type": "; charset=utf-8"},
        ),
        Probe(
            "v2-vendor-json",
            "POST",
            f"{model}/infer",
            _json(infer[0][1]),
            {"Content-Type": "application/vnd.api+json"},
        ),
        Probe("v2-unknown-path", "GET", "/v2/nothing"),
    ]
