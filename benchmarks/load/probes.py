"""A fixed set of requests every app must answer identically (status and body bytes).

The parity test sends them to both apps in process; the benchmark runner sends them over HTTP
to every target before any load, and stops if two targets disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from model.data import holdout_instances

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
    ]
    return found
