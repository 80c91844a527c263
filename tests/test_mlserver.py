"""MLServer 1.7.1 and mlserver-sklearn serving the light model, answering the v2 request corpus.

The same model.joblib as the apps, in MLServer's own venv (tests/mlserver.py), started once for
the session. The probabilities MLServer reads back for FP64 rows are scikit-learn's own for the
rows sent together, bit for bit after JSON (for a batch, one matrix product over its rows, whose
last bits differ from each row predicted alone, as the apps answer). The rest records how
MLServer answers where the protocol leaves a choice, or where it answers differently from the
apps: what the docs say about MLServer rests on these assertions, so an MLServer that changes
fails here first.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import model
from benchmarks.serving.gunicorn import send
from tests import mlserver
from tests.mlserver import Answer, MLServerError, infer
from tests.oip_requests import (
    UNKNOWN_MODEL,
    UNKNOWN_VERSION,
    UNSUPPORTED_OUTPUT,
    OipRequest,
    corpus,
    invalid,
    rows,
)

pytestmark = pytest.mark.server

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# MLServer's NumpyCodec names itself on every output it encodes.
OUTPUT_PARAMETERS = {"content_type": "np"}


@pytest.fixture(scope="module")
def manifest(artifacts_root: Path) -> dict[str, Any]:
    """Return the light model's manifest."""
    return json.loads((artifacts_root / "light" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def requests(manifest: dict[str, Any]) -> dict[str, OipRequest]:
    """Return the corpus and the invalid requests, by name."""
    return corpus(manifest) | invalid(manifest)


@pytest.fixture(scope="module")
def answers(mlserver_url: str, requests: dict[str, OipRequest]) -> dict[str, Answer]:
    """Send each request once; return MLServer's answers by the request's name."""
    return {name: infer(mlserver_url + r.path, r.body) for name, r in requests.items()}


def sent_rows(request: OipRequest) -> np.ndarray:
    """Return the rows a request's one tensor carries, as float64 [N, 30]."""
    (tensor,) = request.body["inputs"]
    return np.array(tensor["data"], dtype=np.float64).reshape(tensor["shape"])


def by_name(answer: Answer) -> dict[str, dict[str, Any]]:
    """Return an answer's outputs by name."""
    return {output["name"]: output for output in answer.body["outputs"]}


@pytest.mark.parametrize(
    "name",
    ["one row, FP64, nested", "one row, FP64, flat", "batch, FP64", "batch, FP64, at the version"],
)
def test_fp64_probabilities_are_the_models_bit_for_bit(
    answers: dict[str, Answer],
    requests: dict[str, OipRequest],
    light_model: model.Model,
    name: str,
) -> None:
    answer = answers[name]
    assert answer.status == 200, answer
    X = sent_rows(requests[name])
    proba = light_model.estimator.predict_proba(X)
    labels = [light_model.classes[i] for i in proba.argmax(axis=1)]
    n = len(X)
    assert answer.body["model_name"] == light_model.name
    assert answer.body["model_version"] == light_model.version
    assert answer.body["outputs"] == [
        {
            "name": "predict",
            "shape": [n, 1],
            "datatype": "BYTES",
            "parameters": OUTPUT_PARAMETERS,
            "data": labels,
        },
        {
            "name": "predict_proba",
            "shape": [n, 2],
            "datatype": "FP64",
            "parameters": OUTPUT_PARAMETERS,
            # Floats compared exactly: JSON's shortest repr reads back as the same double.
            "data": proba.ravel().tolist(),
        },
    ]


def test_the_corpus_rows_are_held_out_rows_in_the_manifests_order(
    manifest: dict[str, Any], light_model: model.Model, instances: list[dict[str, float]]
) -> None:
    assert rows(manifest) == light_model.to_array(instances).tolist()


def test_fp32_is_predicted_on_the_float32_array(
    answers: dict[str, Answer], requests: dict[str, OipRequest], light_model: model.Model
) -> None:
    """MLServer hands scikit-learn the float32 array: the scaling runs in float32.

    The apps round FP32 values to float32 and predict on them as float64, so their
    probabilities differ from MLServer's in the last digits.
    """
    answer = answers["batch, FP32"]
    assert answer.status == 200, answer
    X32 = sent_rows(requests["batch, FP32"]).astype(np.float32)
    proba = by_name(answer)["predict_proba"]
    assert (proba["datatype"], proba["shape"]) == ("FP64", [len(X32), 2])
    assert proba["data"] == light_model.estimator.predict_proba(X32).ravel().tolist()
    as_float64 = light_model.predict_proba(X32.astype(np.float64)).ravel().tolist()
    assert proba["data"] != as_float64


def test_default_outputs_are_predict_only(answers: dict[str, Answer]) -> None:
    """Without ``outputs`` MLServer answers ``predict`` alone (the apps answer both)."""
    answer = answers["default outputs"]
    assert answer.status == 200, answer
    assert list(by_name(answer)) == ["predict"]


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("outputs: predict", ["predict"]),
        ("outputs: predict_proba", ["predict_proba"]),
        ("outputs: predict_proba, predict", ["predict_proba", "predict"]),
    ],
)
def test_outputs_come_as_requested_in_order(
    answers: dict[str, Answer], name: str, names: list[str]
) -> None:
    answer = answers[name]
    assert answer.status == 200, answer
    assert list(by_name(answer)) == names


def test_every_answer_carries_an_id_and_parameters(answers: dict[str, Answer]) -> None:
    """The request's id is echoed; without one MLServer makes one up (the apps send none)."""
    echoed = answers["id and parameters"]
    assert echoed.status == 200, echoed
    assert echoed.body["id"] == "request-1"
    generated = answers["batch, FP64"].body
    assert UUID.fullmatch(generated["id"]), generated["id"]
    for answer in (echoed.body, generated):
        assert answer["parameters"] == {}
        assert list(answer) == ["model_name", "model_version", "id", "parameters", "outputs"]


def test_unknown_model_or_version_is_404(
    answers: dict[str, Answer], manifest: dict[str, Any]
) -> None:
    assert answers["unknown model"] == (
        404,
        "application/json",
        {"error": f"Model {UNKNOWN_MODEL} not found"},
    )
    assert answers["unknown version"] == (
        404,
        "application/json",
        {"error": f"Model {manifest['name']} with version {UNKNOWN_VERSION} not found"},
    )


def test_unsupported_output_is_400(answers: dict[str, Answer]) -> None:
    assert answers["unsupported output"] == (
        400,
        "application/json",
        {
            "error": "SKLearnModel only supports 'predict', 'predict_proba' and 'transform' as "
            f"outputs ({UNSUPPORTED_OUTPUT} was received)"
        },
    )


@pytest.mark.parametrize(
    "name", ["shape that does not match data", "wrong feature count", "output transform"]
)
def test_what_scikit_learn_refuses_is_a_500_in_plain_text(
    answers: dict[str, Answer], name: str
) -> None:
    """MLServer passes these to scikit-learn, whose ValueError or AttributeError is a 500.

    The apps refuse each with a 400 in the protocol's error form.
    """
    assert answers[name] == (500, "text/plain; charset=utf-8", "Internal Server Error")


@pytest.mark.parametrize("name", ["malformed JSON", "NaN"])
def test_json_that_does_not_parse_is_fastapis_422(answers: dict[str, Answer], name: str) -> None:
    """FastAPI's own validation error, not the protocol's form (the apps: a 400)."""
    answer = answers[name]
    assert (answer.status, answer.content_type) == (422, "application/json"), answer
    assert [error["type"] for error in answer.body["detail"]] == ["json_invalid"]


def test_metadata_declares_no_version_platform_or_tensors(
    mlserver_url: str, manifest: dict[str, Any]
) -> None:
    """With the version set in model-settings.json, the metadata still lists none.

    The apps list their version, the platform "scikit-learn" and the input and output tensors.
    """
    name = manifest["name"]
    expected = {"name": name, "versions": [], "platform": "", "inputs": [], "outputs": []}
    for path in (f"/v2/models/{name}", f"/v2/models/{name}/versions/{manifest['version']}"):
        status, _, body = send(mlserver_url, "GET", path)
        assert (status, json.loads(body)) == (200, expected | {"parameters": {}}), path
    status, _, body = send(mlserver_url, "GET", "/v2")
    assert (status, json.loads(body)) == (
        200,
        {"name": "mlserver", "version": "1.7.1", "extensions": []},
    )


def test_health_and_readiness_answer_with_an_empty_body(
    mlserver_url: str, manifest: dict[str, Any]
) -> None:
    """A 200 with no body (the apps answer JSON: {"live": true}, {"ready": true}, ...)."""
    name = manifest["name"]
    for path in ("/v2/health/live", "/v2/health/ready", f"/v2/models/{name}/ready"):
        status, _, body = send(mlserver_url, "GET", path)
        assert (status, body) == (200, b""), path


# -- the helper's own failures: clear, and never a skip ---------------------------------------


def test_a_missing_install_fails_naming_make_mlserver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, manifest: dict[str, Any]
) -> None:
    monkeypatch.setattr(mlserver, "MLSERVER", tmp_path / "bin" / "mlserver")
    with pytest.raises(MLServerError, match=r"is missing\): run `make mlserver`"):
        mlserver.check_installation(manifest)


def test_other_library_versions_fail_naming_make_mlserver(manifest: dict[str, Any]) -> None:
    other = manifest | {"libraries": manifest["libraries"] | {"scikit-learn": "0.1"}}
    with pytest.raises(MLServerError, match=r"scikit-learn.*wanted 0\.1.*run `make mlserver`"):
        mlserver.check_installation(other)


def server_running(tmp_path: Path, script: str) -> mlserver.Server:
    """Return a Server whose process runs ``script`` with Python, logging to tmp_path."""
    log_path = tmp_path / "log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdout=log, stderr=subprocess.STDOUT
        )
    port = mlserver.free_ports(1)[0]
    return mlserver.Server(f"http://127.0.0.1:{port}", process, log_path)


def test_a_server_that_exits_before_it_is_ready_fails_with_its_log(tmp_path: Path) -> None:
    server = server_running(tmp_path, "print('cannot load the model'); raise SystemExit(3)")
    with pytest.raises(MLServerError, match=r"(?s)exited with 3 .*cannot load the model"):
        server.wait_ready(timeout=30)


def test_a_server_never_ready_fails_after_the_timeout_and_is_stopped(tmp_path: Path) -> None:
    server = server_running(tmp_path, "print('loading', flush=True); import time; time.sleep(60)")
    with pytest.raises(MLServerError, match=r"(?s)not ready after 1 s.*loading"):
        server.wait_ready(timeout=1)
    assert server.stop(timeout=5) == -15
