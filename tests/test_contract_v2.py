"""The Open Inference Protocol v2 endpoints, run against both apps like the /v1 contract suite.

Every answer is checked for the contract's headers and validated against the OpenAPI document
(its /v2 paths); every refusal must be a 4xx in the protocol's form, ``{"error": "..."}``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import contract
from benchmarks.load.probes import v2_probes
from contract import v2
from model.data import holdout_instances
from tests.conftest import Target
from tests.openapi import assert_conforms

JSON = "application/json"
HOLDOUT = holdout_instances(100)


def send(
    target: Target,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one request; assert the contract's headers and the document; return status, body."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    response = target.client.open(
        path, method=method, data=data, headers={"Content-Type": JSON, **(headers or {})}
    )
    assert response.headers["Content-Type"] == JSON
    for name, value in contract.RESPONSE_HEADERS.items():
        assert response.headers[name] == value, name
    assert response.get_data().endswith(b"}\n")
    return response.status_code, assert_conforms(
        method, path, response.status_code, response.get_data()
    )


def base(target: Target, version: bool = False) -> str:
    """Return the path of the served model, with its version if asked."""
    loaded = target.get_model()
    path = f"/v2/models/{loaded.name}"
    return f"{path}/versions/{loaded.version}" if version else path


def tensor(rows: list[dict[str, float]], **changes: Any) -> dict[str, Any]:
    """Return an FP64 tensor of rows, nested, with changes."""
    data = [list(row.values()) for row in rows]
    return {"name": "input-0", "shape": [len(rows), 30], "datatype": "FP64", "data": data} | changes


def matrix(target: Target, rows: list[dict[str, float]]) -> np.ndarray:
    """Return rows as the model's float64 array, in its feature order."""
    features = target.get_model().features
    return np.array([[row[name] for name in features] for row in rows], dtype=np.float64)


# -- server and model endpoints ----------------------------------------------------------------


def test_server_metadata_and_health(target: Target) -> None:
    assert send(target, "GET", "/v2") == (
        200,
        {"name": "flask-vs-django-ml", "version": "1.0.0", "extensions": []},
    )
    assert send(target, "GET", "/v2/health/live") == (200, {"live": True})
    assert send(target, "GET", "/v2/health/ready") == (200, {"ready": True})


@pytest.mark.parametrize("version", [False, True])
def test_model_metadata_and_readiness(target: Target, version: bool) -> None:
    loaded = target.get_model()
    status, body = send(target, "GET", base(target, version))
    assert status == 200
    assert body["name"] == loaded.name
    assert body["versions"] == [loaded.version]
    assert body["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 30]}]
    assert [(o["name"], o["datatype"], o["shape"]) for o in body["outputs"]] == [
        ("predict", "BYTES", [-1, 1]),
        ("predict_proba", "FP64", [-1, 2]),
    ]
    ready = send(target, "GET", base(target, version) + "/ready")
    assert ready == (200, {"name": loaded.name, "ready": True})


def test_unknown_model_or_version_is_404(target: Target) -> None:
    loaded = target.get_model()
    for path in (
        "/v2/models/other",
        "/v2/models/other/ready",
        f"/v2/models/{loaded.name}/versions/0",
        f"/v2/models/{loaded.name}/versions/0/ready",
    ):
        status, body = send(target, "GET", path)
        assert status == 404
        assert "not served here" in body["error"] or "has no version '0'" in body["error"]
    status, body = send(target, "POST", "/v2/models/other/infer", {"inputs": [tensor(HOLDOUT[:1])]})
    assert (status, body) == (404, {"error": "model 'other' is not served here"})


# -- inference -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [False, True])
def test_infer_equals_the_model_bit_for_bit(target: Target, version: bool) -> None:
    loaded = target.get_model()
    status, body = send(
        target, "POST", base(target, version) + "/infer", {"inputs": [tensor(HOLDOUT)]}
    )
    assert status == 200
    assert (body["model_name"], body["model_version"]) == (loaded.name, loaded.version)
    assert "id" not in body
    predict, proba = body["outputs"]
    expected = loaded.predict_proba(matrix(target, HOLDOUT))
    assert (proba["name"], proba["datatype"], proba["shape"]) == ("predict_proba", "FP64", [100, 2])
    # Exact equality: JSON round-trips a float64 (repr) without loss.
    assert proba["data"] == expected.ravel().tolist()
    assert (predict["name"], predict["datatype"], predict["shape"]) == (
        "predict",
        "BYTES",
        [100, 1],
    )
    assert predict["data"] == [loaded.classes[i] for i in expected.argmax(axis=1)]
    # The same rows through /v1 give the same numbers.
    v1 = target.client.post("/v1/predict", json={"instances": HOLDOUT}).get_json()
    assert [list(p["probabilities"].values()) for p in v1["predictions"]] == expected.tolist()


def test_flat_and_nested_data_give_the_same_answer(target: Target) -> None:
    nested = send(target, "POST", base(target) + "/infer", {"inputs": [tensor(HOLDOUT[:5])]})
    flat_data = [value for row in HOLDOUT[:5] for value in row.values()]
    flat = send(
        target, "POST", base(target) + "/infer", {"inputs": [tensor(HOLDOUT[:5], data=flat_data)]}
    )
    assert nested == flat
    assert nested[0] == 200


def test_fp32_is_rounded_to_float32_first(target: Target) -> None:
    status, body = send(
        target, "POST", base(target) + "/infer", {"inputs": [tensor(HOLDOUT[:3], datatype="FP32")]}
    )
    assert status == 200
    X = matrix(target, HOLDOUT[:3]).astype(np.float32).astype(np.float64)
    assert body["outputs"][1]["data"] == target.get_model().predict_proba(X).ravel().tolist()


def test_outputs_named_are_answered_in_order_and_id_is_echoed(target: Target) -> None:
    request = {
        "id": "req-7",
        "parameters": {"priority": 1},
        "inputs": [tensor(HOLDOUT[:2], parameters={"content_type": "np"})],
        "outputs": [{"name": "predict_proba"}, {"name": "predict", "parameters": {}}],
    }
    status, body = send(target, "POST", base(target) + "/infer", request)
    assert status == 200
    assert body["id"] == "req-7"
    assert [output["name"] for output in body["outputs"]] == ["predict_proba", "predict"]
    request["outputs"] = [{"name": "predict"}]
    assert [
        o["name"] for o in send(target, "POST", base(target) + "/infer", request)[1]["outputs"]
    ] == ["predict"]


def test_a_body_without_content_type_is_read_as_json(target: Target) -> None:
    response = target.client.post(
        base(target) + "/infer", data=json.dumps({"inputs": [tensor(HOLDOUT[:1])]})
    )
    assert response.status_code == 200
    assert response.get_json()["outputs"][0]["data"] == [
        target.get_model().predict(HOLDOUT[:1])[0]["label"]
    ]


def test_the_batch_limit_holds(target: Target) -> None:
    limit = target.get_model().max_batch_size
    status, body = send(
        target, "POST", base(target) + "/infer", {"inputs": [tensor([HOLDOUT[0]] * (limit + 1))]}
    )
    assert (status, body) == (
        400,
        {"error": f"inputs[0].shape: must hold between 1 and {limit} rows"},
    )


# -- the hostile corpus: only 4xx, in the protocol's form -----------------------------------------

# The names only: the probes themselves name the version the app under test serves.
PROBES = [probe.name for probe in v2_probes(HOLDOUT, "")]
# The probes a v2 server answers 200; every other one is hostile or names what is not served.
ANSWERED = {
    "v2-server",
    "v2-live",
    "v2-ready",
    "v2-model",
    "v2-model-version",
    "v2-model-ready",
    "v2-model-version-ready",
    "v2-infer-one",
    "v2-infer-batch-flat",
    "v2-infer-fp32",
    "v2-infer-proba",
    "v2-infer-id",
    "v2-infer-version",
    "v2-infer-untyped",
    "v2-infer-charset-only",
}


@pytest.mark.parametrize("name", PROBES)
def test_every_refusal_is_a_4xx_in_the_protocol_form(target: Target, name: str) -> None:
    served = target.get_model()
    assert served is not None
    # The apps here serve the session's own training, not model/artifacts (absent, or trained by
    # other code, its version is another).
    probe = next(p for p in v2_probes(HOLDOUT, served.version) if p.name == name)
    response = target.client.open(
        probe.path, method=probe.method, data=probe.body, headers=probe.headers
    )
    body = json.loads(response.get_data())
    assert (response.status_code == 200) == (probe.name in ANSWERED), probe.name
    if response.status_code == 200:
        return
    assert 400 <= response.status_code < 500, probe.name
    assert list(body) == ["error"]
    assert isinstance(body["error"], str)
    assert body["error"]
    assert "Traceback" not in body["error"]


def test_an_echoed_key_is_cut_short(target: Target) -> None:
    key = "k" * 10_000
    status, body = send(target, "POST", base(target) + "/infer", {"inputs": [], key: 1})
    assert status == 400
    assert body == {"error": f"{'k' * 64}: is not a field of the protocol here"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"datatype": "INT64"}, "inputs[0].datatype: must be one of FP64, FP32"),
        ({"shape": [2, 30]}, "inputs[0].data: holds 1 rows where the shape says 2"),
        ({"shape": [1, 29]}, "inputs[0].shape: must be [rows, 30]: the model reads 30 features"),
        ({"shape": [1, -30]}, "inputs[0].shape: must be an array of non-negative integers"),
        (
            {"data": [[1.0] * 29 + [float("1e300")]]},
            "inputs[0].data[0][29]: must be between -1e+09 and 1e+09",
        ),
        ({"data": [[1.0] * 29 + ["x"]]}, "inputs[0].data[0][29]: must be a number"),
        ({"data": [1.0] * 31}, "inputs[0].data: holds 31 values where shape [1, 30] needs 30"),
        ({"name": 3}, "inputs[0].name: must be a string"),
        ({"extra": 1}, "inputs[0].extra: is not a field of the protocol here"),
    ],
)
def test_validation_messages(target: Target, changes: dict[str, Any], message: str) -> None:
    status, body = send(
        target, "POST", base(target) + "/infer", {"inputs": [tensor(HOLDOUT[:1], **changes)]}
    )
    assert (status, body) == (400, {"error": message})


def test_many_problems_are_summarised(target: Target) -> None:
    status, body = send(
        target,
        "POST",
        base(target) + "/infer",
        {"inputs": [tensor(HOLDOUT[:1], data=[[None] * 30])]},
    )
    assert status == 400
    assert body["error"].count("must be a number") == 5
    assert body["error"].endswith("and 25 more problems")


def test_the_protocol_names_its_outputs() -> None:
    assert v2.OUTPUTS == ("predict", "predict_proba")
