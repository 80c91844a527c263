"""Both apps and MLServer 1.7 (its scikit-learn runtime, the same model.joblib) agree on v2.

The corpus (tests/oip_requests.py) is replayed against each app under gunicorn and against
MLServer, request by request. Where the protocol leaves a choice and MLServer's differs from
ours, the test states the difference (docs/contract.md lists them): the outputs answered by
default, FP32 arithmetic, and how a request the model cannot read is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import model
from benchmarks.serving import gunicorn
from tests import oip_requests
from tests.mlserver import Answer, infer

pytestmark = pytest.mark.server

# Requests whose answers must agree in every field the protocol defines.
AGREEING = [
    name
    for name in oip_requests.corpus(oip_requests.names_only())
    if name not in ("default outputs", "batch, FP32")
]
# request -> (the apps' status, MLServer's): where the two refuse or accept differently.
DIFFERING = {
    "INT64 datatype": (400, 200),  # MLServer truncates the values to integers
    "a text/plain body": (415, 422),
    "id null": (400, 200),
    "parameters null": (400, 200),
}


@pytest.fixture(scope="module")
def manifest(artifacts_root: Path) -> dict[str, Any]:
    """Return the manifest of the light model every server here serves."""
    return json.loads((artifacts_root / "light" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def answers(
    server: gunicorn.Server, mlserver_url: str, manifest: dict[str, Any]
) -> dict[str, tuple[Answer, Answer]]:
    """Return (an app's answer, MLServer's answer) to every request of the corpus, by name."""
    requests = {**oip_requests.corpus(manifest), **oip_requests.invalid(manifest)}
    return {
        name: (infer(server.url + r.path, r.body), infer(mlserver_url + r.path, r.body))
        for name, r in requests.items()
    }


def tensors(answer: Answer) -> list[tuple[str, str, list[int]]]:
    """Return each output's name, datatype and shape."""
    return [(o["name"], o["datatype"], o["shape"]) for o in answer.body["outputs"]]


def data(answer: Answer, name: str) -> list[Any]:
    """Return the data of one output."""
    return next(o["data"] for o in answer.body["outputs"] if o["name"] == name)


@pytest.mark.parametrize("name", AGREEING)
def test_status_outputs_shapes_datatypes_and_numbers_agree(
    answers: dict[str, tuple[Answer, Answer]], name: str
) -> None:
    ours, theirs = answers[name]
    assert ours.status == theirs.status
    assert ours.content_type == theirs.content_type == "application/json"
    if ours.status != 200:
        assert set(ours.body) == set(theirs.body) == {"error"}
        return
    assert (ours.body["model_name"], ours.body["model_version"]) == (
        theirs.body["model_name"],
        theirs.body["model_version"],
    )
    assert tensors(ours) == tensors(theirs)
    for output in ours.body["outputs"]:
        ours_data, theirs_data = output["data"], data(theirs, output["name"])
        if output["name"] == "predict" or output["shape"][0] == 1:
            # Bit for bit: both read float64 rows and write each probability's repr.
            assert ours_data == theirs_data
        else:
            # A batch: MLServer's runtime predicts it in one matrix product, whose last bits
            # move with the rows beside each row; ours answers every row as it is alone.
            assert np.allclose(ours_data, theirs_data, rtol=0, atol=4.5e-16)
    if "id" in ours.body:
        assert ours.body["id"] == theirs.body["id"]


def test_default_outputs_differ_by_design(answers: dict[str, tuple[Answer, Answer]]) -> None:
    """Ours answers both outputs unless some are named; MLServer's runtime answers predict."""
    ours, theirs = answers["default outputs"]
    assert [t[0] for t in tensors(ours)] == ["predict", "predict_proba"]
    assert tensors(theirs) == tensors(ours)[:1]
    assert data(theirs, "predict") == data(ours, "predict")


def test_fp32_arithmetic_differs_in_the_last_digits(
    answers: dict[str, tuple[Answer, Answer]], manifest: dict[str, Any], artifacts_root: Path
) -> None:
    """Ours rounds FP32 values to float32 and predicts in float64; MLServer predicts on the
    float32 array itself. Labels agree; probabilities agree to float32's precision."""
    ours, theirs = answers["batch, FP32"]
    assert (ours.status, theirs.status) == (200, 200)
    assert tensors(ours) == tensors(theirs)
    assert data(ours, "predict") == data(theirs, "predict")
    rows = np.array(oip_requests.rows(manifest), dtype=np.float32).astype(np.float64)
    expected = model.load(artifacts_root / "light").predict_proba(rows).ravel().tolist()
    assert data(ours, "predict_proba") == expected
    np.testing.assert_allclose(data(theirs, "predict_proba"), expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", list(oip_requests.INVALID_NAMES))
def test_what_the_model_cannot_read_is_a_400_here(
    answers: dict[str, tuple[Answer, Answer]], name: str
) -> None:
    """Ours refuses in the protocol's form; MLServer answers 500 or FastAPI's 422 (documented)."""
    ours, theirs = answers[name]
    assert ours.status == 400
    assert set(ours.body) == {"error"}
    assert theirs.status in (422, 500)


@pytest.mark.parametrize("name", DIFFERING)
def test_where_the_statuses_differ_as_documented(
    server: gunicorn.Server, mlserver_url: str, manifest: dict[str, Any], name: str
) -> None:
    request, headers = oip_requests.differing(manifest)[name]
    ours = infer(server.url + request.path, request.body, headers)
    theirs = infer(mlserver_url + request.path, request.body, headers)
    assert (ours.status, theirs.status) == DIFFERING[name]
    assert set(ours.body) == {"error"}
