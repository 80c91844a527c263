"""Both apps' Open Inference Protocol v2 endpoints, through two clients that no one here wrote.

tritonclient's HTTP client (NVIDIA Triton's) and open-inference-openapi's (generated with Fern
from the protocol's own OpenAPI document) talk to each app under gunicorn on 127.0.0.1. The
probabilities they read back must equal the model's own ``predict_proba`` bit for bit, and an
error must reach the caller as each client's own exception, with our status and message. The
wire format itself is the contract suite's business (tests/test_contract.py); this file checks
that real clients agree with it.

What the clients do on the wire (learnt against MLServer 1.7, which speaks the same protocol):

- tritonclient sends no Content-Type on ``infer``. It takes ``host:port`` without a scheme (a
  URL with one raises, and the half-made client's ``__del__`` then fails too). It judges health
  and readiness by the status code alone (an unknown model is "not ready", no error), and its
  ``InferenceServerException.status()`` is the status as a string. When no output is named it
  asks for every output in binary (``"parameters": {"binary_data_output": true}``); a server
  without the binary extension answers JSON, which the client reads all the same. FP32 values go
  out as the shortest decimal of the float32's exact value, so the server's rounding gets them
  back exactly.
- open-inference-openapi sends ``Content-Type: application/json``; its types are pydantic v1
  models (``data`` is a ``__root__`` list); it raises ``BadRequestError`` for a 400 and a plain
  ``ApiError`` for a 404 from ``infer`` and model metadata (``NotFoundError`` only from the
  readiness calls), each with the parsed JSON body. Left to itself it opens an ``httpx.Client``
  it never closes, so the tests hand it one they close.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from open_inference.openapi.client import InferenceRequest, OpenInferenceClient
from open_inference.openapi.core.api_error import ApiError
from open_inference.openapi.errors.bad_request_error import BadRequestError
from tritonclient.utils import InferenceServerException

import model
from benchmarks.serving import gunicorn

pytestmark = pytest.mark.server

INPUT = "input-0"
OUTPUTS = ("predict", "predict_proba")
UNKNOWN_MODEL = "no-such-model"
UNKNOWN_OUTPUT = "no-such-output"


@pytest.fixture(scope="module")
def triton_client(server: gunicorn.Server) -> Iterator[triton.InferenceServerClient]:
    """Return tritonclient's HTTP client for the app under test."""
    client = triton.InferenceServerClient(url=f"{gunicorn.HOST}:{server.port}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def oip_client(server: gunicorn.Server) -> Iterator[OpenInferenceClient]:
    """Return open-inference-openapi's client for the app under test, on a client we close."""
    with httpx.Client(timeout=10) as http:
        yield OpenInferenceClient(base_url=server.url, httpx_client=http)


@pytest.fixture(scope="module")
def server_metadata(server: gunicorn.Server) -> dict[str, Any]:
    """Return the app's own answer to GET /v2, read without either client."""
    status, _, body = gunicorn.get(server.port, "/v2")
    assert status == 200, body
    return json.loads(body)


@pytest.fixture(scope="module")
def X(light_model: model.Model, instances: list[dict[str, float]]) -> np.ndarray:
    """Return the held-out rows as float64, in the manifest's feature order."""
    return light_model.to_array(instances)


def same_bits(got: np.ndarray, expected: np.ndarray) -> bool:
    """Return whether two float64 arrays are equal bit for bit (shape included)."""
    got = np.asarray(got)
    return (
        got.dtype == np.float64
        and got.shape == expected.shape
        and np.array_equal(got.view(np.uint64), expected.view(np.uint64))
    )


def labels_of(light_model: model.Model, proba: np.ndarray) -> list[str]:
    """Return the class each row's highest probability names."""
    return [light_model.classes[i] for i in proba.argmax(axis=1).tolist()]


# -- tritonclient ------------------------------------------------------------------------------


def test_tritonclient_health_and_metadata(
    triton_client: triton.InferenceServerClient,
    light_model: model.Model,
    server_metadata: dict[str, Any],
) -> None:
    name, version = light_model.name, light_model.version
    assert triton_client.is_server_live()
    assert triton_client.is_server_ready()
    assert triton_client.is_model_ready(name)
    assert triton_client.is_model_ready(name, version)
    assert server_metadata["name"] == "flask-vs-django-ml"
    assert triton_client.get_server_metadata() == server_metadata
    for found in (
        triton_client.get_model_metadata(name),
        triton_client.get_model_metadata(name, version),
    ):
        assert found["name"] == name
        assert found["versions"] == [version]
        assert [(t["name"], t["datatype"], t["shape"]) for t in found["inputs"]] == [
            (INPUT, "FP64", [-1, len(light_model.features)])
        ]
        assert [t["name"] for t in found["outputs"]] == list(OUTPUTS)


def triton_input(X: np.ndarray, datatype: str = "FP64") -> triton.InferInput:
    """Return X as tritonclient's input tensor, its data in JSON."""
    tensor = triton.InferInput(INPUT, list(X.shape), datatype)
    tensor.set_data_from_numpy(X, binary_data=False)
    return tensor


def test_tritonclient_infers_one_row_and_a_batch(
    triton_client: triton.InferenceServerClient, light_model: model.Model, X: np.ndarray
) -> None:
    expected = light_model.predict_proba(X)
    # No output named: the client asks for binary outputs, and gets both outputs in JSON.
    one = triton_client.infer(light_model.name, [triton_input(X[:1])])
    assert [o["name"] for o in one.get_response()["outputs"]] == list(OUTPUTS)
    assert same_bits(one.as_numpy("predict_proba"), expected[:1])
    assert one.as_numpy("predict").tolist() == [labels_of(light_model, expected[:1])]

    wanted = [triton.InferRequestedOutput(n, binary_data=False) for n in reversed(OUTPUTS)]
    batch = triton_client.infer(
        light_model.name,
        [triton_input(X)],
        outputs=wanted,
        request_id="batch-1",
        model_version=light_model.version,
    )
    response = batch.get_response()
    assert response["id"] == "batch-1"
    assert response["model_version"] == light_model.version
    assert [o["name"] for o in response["outputs"]] == list(reversed(OUTPUTS))
    assert same_bits(batch.as_numpy("predict_proba"), expected)
    labels = batch.as_numpy("predict")
    assert labels.shape == (len(X), 1)
    assert labels.ravel().tolist() == labels_of(light_model, expected)


def test_tritonclient_fp32_input_is_rounded_then_predicted(
    triton_client: triton.InferenceServerClient, light_model: model.Model, X: np.ndarray
) -> None:
    X32 = X[:5].astype(np.float32)
    result = triton_client.infer(
        light_model.name,
        [triton_input(X32, "FP32")],
        outputs=[triton.InferRequestedOutput("predict_proba", binary_data=False)],
    )
    assert same_bits(result.as_numpy("predict_proba"), light_model.predict_proba(X32.astype(float)))


# -- open-inference-openapi --------------------------------------------------------------------


def test_open_inference_client_health_and_metadata(
    oip_client: OpenInferenceClient, light_model: model.Model, server_metadata: dict[str, Any]
) -> None:
    name, version = light_model.name, light_model.version
    # Each returns None on a 2xx and raises otherwise.
    oip_client.check_server_liveness()
    oip_client.check_server_readiness()
    oip_client.check_model_readiness(name)
    oip_client.check_model_version_readiness(name, version)
    assert oip_client.read_server_metadata().dict() == server_metadata
    for found in (
        oip_client.read_model_metadata(name),
        oip_client.read_model_version_metadata(name, version),
    ):
        assert found.name == name
        assert found.versions == [version]
        assert [(t.name, t.datatype, t.shape) for t in found.inputs or []] == [
            (INPUT, "FP64", [-1, len(light_model.features)])
        ]
        assert [t.name for t in found.outputs or []] == list(OUTPUTS)


def oip_request(
    X: np.ndarray, *, nested: bool, outputs: list[str] | None = None
) -> InferenceRequest:
    """Return an InferenceRequest for X, its data nested by row or flat."""
    tensor = {
        "name": INPUT,
        "shape": list(X.shape),
        "datatype": "FP64",
        "data": X.tolist() if nested else X.ravel().tolist(),
    }
    if outputs is None:
        return InferenceRequest(inputs=[tensor])
    return InferenceRequest(id="oip-1", inputs=[tensor], outputs=[{"name": n} for n in outputs])


def test_open_inference_client_infers_one_row_and_a_batch(
    oip_client: OpenInferenceClient, light_model: model.Model, X: np.ndarray
) -> None:
    expected = light_model.predict_proba(X)
    one = oip_client.model_infer(light_model.name, request=oip_request(X[:1], nested=False))
    assert one.id is None
    outputs = {o.name: o for o in one.outputs}
    assert list(outputs) == list(OUTPUTS)
    proba = outputs["predict_proba"]
    assert (proba.datatype, proba.shape) == ("FP64", [1, 2])
    assert same_bits(np.array(proba.data.__root__).reshape(1, 2), expected[:1])
    assert outputs["predict"].data.__root__ == labels_of(light_model, expected[:1])

    batch = oip_client.model_version_infer(
        light_model.name,
        light_model.version,
        request=oip_request(X, nested=True, outputs=["predict_proba"]),
    )
    assert (batch.id, batch.model_version) == ("oip-1", light_model.version)
    (proba,) = batch.outputs
    assert (proba.name, proba.shape) == ("predict_proba", [len(X), 2])
    assert same_bits(np.array(proba.data.__root__).reshape(len(X), 2), expected)


# -- errors, through both clients --------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_name", "output", "status", "mentions"),
    [(UNKNOWN_MODEL, "predict", 404, UNKNOWN_MODEL), (None, UNKNOWN_OUTPUT, 400, "outputs")],
    ids=["unknown model", "unsupported output"],
)
def test_errors_reach_both_clients_with_our_status_and_message(
    server: gunicorn.Server,
    triton_client: triton.InferenceServerClient,
    oip_client: OpenInferenceClient,
    light_model: model.Model,
    X: np.ndarray,
    model_name: str | None,
    output: str,
    status: int,
    mentions: str,
) -> None:
    name = model_name or light_model.name
    request = oip_request(X[:1], nested=False, outputs=[output])
    # What the server itself says to a plain HTTP request, to compare each client's report with.
    answer = gunicorn.request(
        server.port,
        "POST",
        f"/v2/models/{name}/infer",
        request.json().encode(),
        {"Content-Type": "application/json"},
    )
    assert answer[0] == status, answer
    message = json.loads(answer[2])["error"]
    assert mentions in message

    with pytest.raises(InferenceServerException) as raised:
        triton_client.infer(
            name,
            [triton_input(X[:1])],
            outputs=[triton.InferRequestedOutput(output, binary_data=False)],
        )
    assert (raised.value.status(), raised.value.message()) == (str(status), message)

    with pytest.raises(ApiError) as caught:
        oip_client.model_infer(name, request=request)
    assert (caught.value.status_code, caught.value.body) == (status, {"error": message})
    assert isinstance(caught.value, BadRequestError) == (status == 400)
